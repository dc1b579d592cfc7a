package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrTruncated means a SOPS file ends before its sops metadata is
// complete: it was cut short, by an interrupted write or copy, or a bad
// merge or paste. Errors that wrap it are *DamageError.
var ErrTruncated = errors.New("truncated")

// DamageError says where a SOPS file is damaged and how. It wraps
// ErrTruncated, or ErrTampered for a file changed without sops.
type DamageError struct {
	// Path is the file.
	Path string
	// Line is the 1-based line of the damage: for a truncated file, the
	// line it ends on.
	Line int
	// Key is the dotted key path of the damaged value (stringData.password),
	// "" when the file as a whole is damaged.
	Key string
	// What says what is wrong.
	What string
	// Err is ErrTruncated or ErrTampered.
	Err error
}

// Error gives file:line, what is wrong, and how to get the file back.
func (e *DamageError) Error() string {
	then := ""
	if errors.Is(e.Err, ErrTampered) {
		then = " and change its values only through sops"
	}
	return fmt.Sprintf("%s:%d: %v: %s; restore the last good version from git (git checkout -- %s, or an earlier one: git log -- %s)%s",
		e.Path, e.Line, e.Err, e.What, e.Path, e.Path, then)
}

// Unwrap returns ErrTruncated or ErrTampered.
func (e *DamageError) Unwrap() error { return e.Err }

var (
	// yamlSops and yamlVersion find the sops metadata of a YAML file and
	// its version, the key sops writes last.
	yamlSops    = regexp.MustCompile(`(?m)^sops:[ \t]*(#.*)?\r?$`)
	yamlVersion = regexp.MustCompile(`(?m)^[ \t]+version:[ \t]*\S`)
	jsonSops    = regexp.MustCompile(`"sops"\s*:\s*\{`)
	jsonVersion = regexp.MustCompile(`"version"\s*:\s*"[^"]+"`)
	// cipherLine finds a SOPS ciphertext value outside a comment.
	cipherLine = regexp.MustCompile(`(?m)^[^#\n]*ENC\[AES256_GCM,`)
)

// incomplete returns a *DamageError (ErrTruncated) when data, a YAML or
// JSON file, holds SOPS ciphertext or metadata but ends before its sops
// metadata is complete: sops writes the metadata after the values, and its
// version key last.
func incomplete(path string, data []byte) *DamageError {
	if !bytes.Contains(data, []byte("ENC[AES256_GCM,")) && !bytes.Contains(data, []byte("sops")) {
		return nil // the cheap test first: most files are not SOPS files
	}
	var meta []int
	complete := false
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		meta = lastMatch(yamlSops, data)
		complete = meta != nil && yamlVersion.Match(data[meta[1]:])
	case ".json":
		meta = lastMatch(jsonSops, data)
		complete = meta != nil && jsonVersion.Match(data[meta[1]:]) && json.Valid(data)
	default:
		return nil
	}
	if complete || (meta == nil && !cipherLine.Match(data)) {
		return nil
	}
	n := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	what := fmt.Sprintf("the file ends at line %d, inside its sops metadata (sops writes sops.version last, and it is missing)", n)
	if meta == nil {
		what = fmt.Sprintf("the file holds SOPS ciphertext but ends at line %d, before its sops metadata", n)
	}
	return &DamageError{Path: path, Line: n, What: what, Err: ErrTruncated}
}

// lastMatch returns the position of re's last match in data, or nil.
func lastMatch(re *regexp.Regexp, data []byte) []int {
	all := re.FindAllIndex(data, -1)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

// explain turns an error from opening or decrypting the SOPS file data
// into one that says where the file is damaged, when it is: truncated, or
// a value in plaintext where sops requires ciphertext (which sops reports
// as "Input string ... does not match sops' data format", echoing the
// value and naming neither key nor line). Other errors pass unchanged.
func explain(path string, data []byte, err error) error {
	var noID *NoIdentityError
	if err == nil || errors.Is(err, ErrNoKey) || errors.As(err, &noID) {
		return err
	}
	if d := incomplete(path, data); d != nil {
		return d
	}
	if leaf, ok := firstPlaintext(data); ok {
		return &DamageError{Path: path, Line: leaf.line, Key: leaf.key(), Err: ErrTampered,
			What: leaf.key() + " is plaintext where sops requires ciphertext (a value replaced, or a key added, by hand)"}
	}
	return err
}

// firstPlaintext returns the first value of a SOPS YAML or JSON document
// that its own metadata says must be ciphertext and is not.
func firstPlaintext(data []byte) (plainLeaf, bool) {
	docs := parseDocs(data)
	for _, d := range docs {
		meta := mapValue(d, "sops")
		if meta == nil {
			continue
		}
		if leaves, ok := plaintextLeaves(d, meta); ok && len(leaves) > 0 {
			return leaves[0], true
		}
	}
	return plainLeaf{}, false
}

// plainLeaf is a value left in plaintext where sops requires ciphertext.
type plainLeaf struct {
	keys []string
	line int
}

func (l plainLeaf) key() string { return strings.Join(l.keys, ".") }

// plaintextLeaves lists the values of a SOPS document that its metadata
// says sops encrypts and that are not ciphertext. ok is false when the
// metadata's regular expressions do not compile; with comment rules only
// the MAC can tell, and none are listed.
func plaintextLeaves(doc, meta *yaml.Node) ([]plainLeaf, bool) {
	sel, ok := newSelector(meta)
	if !ok {
		return nil, false
	}
	if sel.comments {
		return nil, true
	}
	var out []plainLeaf
	var walk func(n *yaml.Node, keys []string)
	walk = func(n *yaml.Node, keys []string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if len(keys) == 0 && k == "sops" {
					continue
				}
				walk(n.Content[i+1], append(keys[:len(keys):len(keys)], k))
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, keys)
			}
		case yaml.ScalarNode:
			if n.Tag != "!!null" && sel.encrypted(keys) && !encValue.MatchString(n.Value) {
				out = append(out, plainLeaf{keys: keys, line: n.Line})
			}
		}
	}
	walk(doc, nil)
	return out, true
}

// keyLine returns the line of the value at a sops key path ("a:b:") in a
// YAML or JSON file, 0 when it is not found.
func keyLine(data []byte, aad string) int {
	keys := strings.Split(strings.TrimSuffix(aad, ":"), ":")
	var find func(n *yaml.Node, keys []string) int
	find = func(n *yaml.Node, keys []string) int {
		if len(keys) == 0 {
			return n.Line
		}
		switch n.Kind {
		case yaml.MappingNode:
			if v := mapValue(n, keys[0]); v != nil {
				return find(v, keys[1:])
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				if line := find(c, keys); line > 0 {
					return line
				}
			}
		}
		return 0
	}
	for _, d := range parseDocs(data) {
		if line := find(d, keys); line > 0 {
			return line
		}
	}
	return 0
}
