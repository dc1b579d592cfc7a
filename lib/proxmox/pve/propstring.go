package pve

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// PropertyString is a PVE property string such as
// "local-zfs:vm-100-disk-0,discard=on,size=32G": comma-separated key=value
// pairs where the value of the default key (here "file") may stand alone.
// Keys keep no order: String writes the default key first, then the others
// sorted, as PVE does.
type PropertyString struct {
	defaultKey string
	values     map[string]string
}

// NewPropertyString returns an empty property string whose bare value is
// stored under defaultKey ("" when the format has none).
func NewPropertyString(defaultKey string) *PropertyString {
	return &PropertyString{defaultKey: defaultKey, values: map[string]string{}}
}

// ParsePropertyString parses s. A bare value (without '=') is stored under
// defaultKey; a second bare value, an empty key or a repeated key is an error.
// Values may be double-quoted to hold commas.
func ParsePropertyString(s, defaultKey string) (*PropertyString, error) {
	p := NewPropertyString(defaultKey)
	parts, err := splitUnquoted(s)
	if err != nil {
		return nil, err
	}
	for _, part := range parts {
		if part == "" {
			continue
		}
		k, v, hasEq := strings.Cut(part, "=")
		if !hasEq || strings.HasPrefix(part, `"`) {
			if defaultKey == "" {
				return nil, fmt.Errorf("value without key, but schema does not define a default key")
			}
			k, v = defaultKey, part
		}
		if !keyRe.MatchString(k) {
			return nil, fmt.Errorf("invalid key '%s' in '%s'", k, s)
		}
		if _, dup := p.values[k]; dup {
			return nil, fmt.Errorf("duplicate key in comma-separated list property: %s", k)
		}
		p.values[k] = unquote(v)
	}
	return p, nil
}

// keyRe matches the keys of PVE property strings.
var keyRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// splitUnquoted splits s at commas outside double quotes. Inside quotes a
// backslash escapes the next character.
func splitUnquoted(s string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
			cur.WriteRune(r)
		case quoted && r == '\\':
			escaped = true
			cur.WriteRune(r)
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ',' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in '%s'", s)
	}
	return append(parts, cur.String()), nil
}

// unquote strips the quotes of a quoted value and resolves its escapes.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	escaped := false
	for _, r := range v[1 : len(v)-1] {
		if !escaped && r == '\\' {
			escaped = true
			continue
		}
		escaped = false
		b.WriteRune(r)
	}
	return b.String()
}

// quote writes a value so that it parses back to itself: quoted (with
// escapes) when it is empty or holds a comma, a quote, a backslash or '='.
func quote(v string) string {
	if v != "" && !strings.ContainsAny(v, ",\"=\\") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// Get returns the value of key and whether it is set.
func (p *PropertyString) Get(key string) (string, bool) {
	v, ok := p.values[key]
	return v, ok
}

// Value returns the value of key, or "" when it is not set.
func (p *PropertyString) Value(key string) string { return p.values[key] }

// Set sets key to value.
func (p *PropertyString) Set(key, value string) *PropertyString {
	p.values[key] = value
	return p
}

// Delete removes key.
func (p *PropertyString) Delete(key string) { delete(p.values, key) }

// Keys returns the set keys, the default key first and the others sorted.
func (p *PropertyString) Keys() []string {
	keys := make([]string, 0, len(p.values))
	for k := range p.values {
		if k != p.defaultKey {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if _, ok := p.values[p.defaultKey]; ok && p.defaultKey != "" {
		keys = append([]string{p.defaultKey}, keys...)
	}
	return keys
}

// String writes the property string the way PVE prints it.
func (p *PropertyString) String() string {
	parts := make([]string, 0, len(p.values))
	for _, k := range p.Keys() {
		v := quote(p.values[k])
		if k == p.defaultKey {
			parts = append(parts, v)
		} else {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ",")
}
