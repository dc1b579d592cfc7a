package cloudimage

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Checksum algorithms.
const (
	SHA256 = "sha256"
	SHA512 = "sha512"
)

func hexLen(algo string) int {
	if algo == SHA512 {
		return 128
	}
	return 64
}

var bsdLine = regexp.MustCompile(`^(SHA256|SHA512) \((.+)\) = ([0-9a-fA-F]+)$`)

// ParseSums reads a checksum file: GNU coreutils lines "<hex>  <file>" and
// "<hex> *<file>" (binary mode, as Ubuntu's SHA256SUMS has), BSD lines
// "SHA256 (<file>) = <hex>", blank lines and "#" comments. It returns the sums
// by file name, lower-case. A line of another form, a sum of the wrong length
// for algo or a file listed twice with different sums is an error naming the
// line.
func ParseSums(data []byte, algo string) (map[string]string, error) {
	want := hexLen(algo)
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var sum, file string
		if m := bsdLine.FindStringSubmatch(line); m != nil {
			if strings.ToLower(m[1]) != algo {
				return nil, fmt.Errorf("line %d: %s sum in a %s file", n, m[1], algo)
			}
			file, sum = m[2], m[3]
		} else {
			h, rest, ok := strings.Cut(line, " ")
			if !ok || (!strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "*")) {
				return nil, fmt.Errorf("line %d: %q is neither \"<hex>  <file>\" nor \"SHA256 (<file>) = <hex>\"", n, truncate(line, 80))
			}
			sum, file = h, rest[1:]
		}
		if len(sum) != want || strings.Trim(strings.ToLower(sum), "0123456789abcdef") != "" {
			return nil, fmt.Errorf("line %d: %q is not a %s sum (%d hex digits)", n, truncate(sum, 80), algo, want)
		}
		if file == "" {
			return nil, fmt.Errorf("line %d: no file name", n)
		}
		sum = strings.ToLower(sum)
		if prev, ok := sums[file]; ok && prev != sum {
			return nil, fmt.Errorf("line %d: %s listed twice with different sums", n, file)
		}
		sums[file] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return sums, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
