package images

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// DefaultLockFile is the lock file's name next to the inventory.
const DefaultLockFile = "images.lock"

// LockFile holds pinned image checksums, one line per image:
//
//	talos v1.12.7 <schematic ID> nocloud-amd64.qcow2 sha256:<hex>
//
// Like go.sum it is committed, so every machine verifies the same bytes.
type LockFile struct {
	path  string
	lines map[string]string // "kind version source file" → "sha256:<hex>"
}

var sumRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// LoadLockFile reads a lock file; a missing file is an empty lock.
func LoadLockFile(path string) (*LockFile, error) {
	l := &LockFile{path: path, lines: map[string]string{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 5 || !sumRe.MatchString(fields[4]) {
			return nil, fmt.Errorf("%s:%d: want \"<kind> <version> <source> <file> sha256:<hex>\", got %q", path, n, line)
		}
		l.lines[strings.Join(fields[:4], " ")] = fields[4]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read lock file %s: %w", path, err)
	}
	return l, nil
}

// Path is the lock file's path.
func (l *LockFile) Path() string { return l.path }

// Lookup returns the pinned hex SHA-256 of an image, if any.
func (l *LockFile) Lookup(kind, version, source, file string) (string, bool) {
	v, ok := l.lines[strings.Join([]string{kind, version, source, file}, " ")]
	return strings.TrimPrefix(v, "sha256:"), ok
}

// Pin records an image's hex SHA-256 and writes the file atomically.
func (l *LockFile) Pin(kind, version, source, file, sum string) error {
	if !sumRe.MatchString("sha256:" + sum) {
		return fmt.Errorf("pin %s %s: %q is not a hex SHA-256", kind, version, sum)
	}
	l.lines[strings.Join([]string{kind, version, source, file}, " ")] = "sha256:" + sum
	return l.write()
}

func (l *LockFile) write() error {
	keys := slices.Sorted(maps.Keys(l.lines))
	var b strings.Builder
	b.WriteString("# images.lock: SHA-256 of images the Image Factory serves, pinned on first use\n")
	b.WriteString("# by an import that verifies the image. Commit it; imports pass the sum to PVE.\n")
	b.WriteString("# <kind> <version> <source> <file> sha256:<hex>\n")
	for _, k := range keys {
		b.WriteString(k + " " + l.lines[k] + "\n")
	}
	if err := atomicfile.Write(l.path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}
