package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// AllowFile lists, at the repository root, the paths Check does not read:
// one glob per line (path.Match on the slash path, a trailing "/**" covers
// a directory), "#" starts a comment.
const AllowFile = ".secrets-allow"

// AllowMarker on a line makes Check ignore that line, for an example that
// only looks like a secret. Prefer fixing the example.
const AllowMarker = "secrets:allow"

// allowList is the parsed AllowFile.
type allowList []string

// readAllow parses root/AllowFile; a missing file allows nothing.
func readAllow(root string) (allowList, error) {
	data, err := os.ReadFile(filepath.Join(root, AllowFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out allowList
	for n, line := range strings.Split(string(data), "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, err := path.Match(strings.TrimSuffix(line, "/**"), ""); err != nil {
			return nil, fmt.Errorf("%s:%d: %q is not a valid pattern: %w", AllowFile, n+1, line, err)
		}
		out = append(out, line)
	}
	return out, nil
}

// match returns the index of the first entry covering rel, or -1.
func (a allowList) match(rel string) int {
	for i, p := range a {
		if dir, ok := strings.CutSuffix(p, "/**"); ok {
			for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
				if m, _ := path.Match(dir, d); m {
					return i
				}
			}
			continue
		}
		if m, _ := path.Match(p, rel); m {
			return i
		}
	}
	return -1
}
