package schema

//go:generate go run ./gen

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed subset.json
var subsetJSON []byte

// Method is one API method of the schema: an HTTP method on a path template.
type Method struct {
	// Path is the template, e.g. "/nodes/{node}/qemu/{vmid}/config".
	Path string `json:"path"`
	// Method is GET, POST, PUT or DELETE.
	Method string `json:"method"`
	// Name is PVE's handler name, e.g. "update_vm".
	Name string `json:"name"`
	// AllowToken is false for methods API tokens may not call.
	AllowToken Bool `json:"allowtoken,omitempty"`
	// Protected methods run in the privileged daemon; recorded for reference.
	Protected Bool `json:"protected,omitempty"`
	// Parameters are the accepted parameters, path variables included.
	Parameters Object `json:"parameters"`
	// Permissions say who may call the method.
	Permissions Permissions `json:"permissions"`
}

// Object is a parameter object.
type Object struct {
	AdditionalProperties Bool                 `json:"additionalProperties"`
	Properties           map[string]*Property `json:"properties,omitempty"`
}

// Permissions is the schema's permission rule for a method: a check
// expression, or a user class ("all" authenticated users, "world").
type Permissions struct {
	Check json.RawMessage `json:"check,omitempty"`
	User  string          `json:"user,omitempty"`
}

// Property is one parameter, or one key of a property-string format.
type Property struct {
	Type       string     `json:"type,omitempty"`
	Optional   Bool       `json:"optional,omitempty"`
	Enum       StringList `json:"enum,omitempty"`
	Pattern    string     `json:"pattern,omitempty"`
	Format     *Format    `json:"format,omitempty"`
	Minimum    *Number    `json:"minimum,omitempty"`
	Maximum    *Number    `json:"maximum,omitempty"`
	MaxLength  *Number    `json:"maxLength,omitempty"`
	Requires   string     `json:"requires,omitempty"`
	Default    any        `json:"default,omitempty"`
	Alias      string     `json:"alias,omitempty"`
	KeyAlias   string     `json:"keyAlias,omitempty"`
	DefaultKey Bool       `json:"default_key,omitempty"`
	Items      *Property  `json:"items,omitempty"`
	// MaxIndex is the largest n of a "name[n]" property ("n is 0 to 30").
	MaxIndex int `json:"x-max-index,omitempty"`

	pattern *regexp.Regexp // Pattern, compiled when the schema is loaded
}

// compile prepares the property (and its property-string keys) for validation.
func (p *Property) compile() {
	if p.Pattern != "" {
		p.pattern = compilePattern(p.Pattern)
	}
	if p.Format != nil {
		for _, k := range p.Format.Keys {
			k.compile()
		}
	}
	if p.Items != nil {
		p.Items.compile()
	}
}

// Format is a property's format: the name of a registered format
// ("pve-vmid"), the keys of a property string, or both for a property-string
// format PVE registers by name ("pve-qm-ipconfig"), whose keys the loader
// fills in.
type Format struct {
	Name string
	Keys map[string]*Property
}

// UnmarshalJSON reads a format name or a property-string definition.
func (f *Format) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.Name)
	}
	return json.Unmarshal(b, &f.Keys)
}

// MarshalJSON writes the name, or the keys of an unnamed property string.
func (f *Format) MarshalJSON() ([]byte, error) {
	if f.Name == "" {
		return json.Marshal(f.Keys)
	}
	return json.Marshal(f.Name)
}

// DefaultKey returns the key a bare value of the property string belongs to.
func (f *Format) DefaultKey() string {
	for k, p := range f.Keys {
		if p.DefaultKey {
			return k
		}
	}
	return ""
}

// Bool reads PVE's 0/1 (or JSON true/false) flags.
type Bool bool

// UnmarshalJSON accepts 0, 1, true and false.
func (b *Bool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "1", "true":
		*b = true
	case "0", "false", "null":
		*b = false
	default:
		return fmt.Errorf("schema: %s is not a flag", data)
	}
	return nil
}

// MarshalJSON writes 1 or 0.
func (b Bool) MarshalJSON() ([]byte, error) {
	if b {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

// Number reads a schema bound written as a JSON number or a numeric string.
type Number float64

// UnmarshalJSON accepts 1, 1.5 and "1".
func (n *Number) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("schema: %s is not a number", b)
	}
	*n = Number(f)
	return nil
}

// StringList reads an enum whose members may be numbers.
type StringList []string

// UnmarshalJSON stringifies every member.
func (s *StringList) UnmarshalJSON(b []byte) error {
	var raw []any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, v := range raw {
		*s = append(*s, fmt.Sprint(v))
	}
	return nil
}

// Schema is the set of methods the simulator implements.
type Schema struct {
	methods map[string]*Method // "GET /nodes/{node}"
	paths   []string           // templates, longest first
}

// Load returns the embedded subset.
func Load() (*Schema, error) {
	return parse(subsetJSON)
}

func parse(data []byte) (*Schema, error) {
	var list []*Method
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("schema: decode subset: %w", err)
	}
	s := &Schema{methods: map[string]*Method{}}
	seen := map[string]bool{}
	for _, m := range list {
		for _, p := range m.Parameters.Properties {
			p.compile()
		}
		if err := resolveNamedFormats(m); err != nil {
			return nil, err
		}
		s.methods[m.Method+" "+m.Path] = m
		if !seen[m.Path] {
			seen[m.Path] = true
			s.paths = append(s.paths, m.Path)
		}
	}
	sort.Slice(s.paths, func(i, j int) bool { return len(s.paths[i]) > len(s.paths[j]) })
	return s, nil
}

// Methods returns every method, sorted by path then method.
func (s *Schema) Methods() []*Method {
	out := make([]*Method, 0, len(s.methods))
	for _, m := range s.methods {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Lookup finds the method for an HTTP method and a request path below
// /api2/json, returning the path variables. The last variable of a template
// takes the rest of the path, so a volume ID with '/' still matches.
func (s *Schema) Lookup(method, path string) (*Method, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, tmpl := range s.paths {
		vars, ok := match(tmpl, segs)
		if !ok {
			continue
		}
		m, ok := s.methods[method+" "+tmpl]
		return m, vars, ok
	}
	return nil, nil, false
}

func match(tmpl string, segs []string) (map[string]string, bool) {
	parts := strings.Split(strings.Trim(tmpl, "/"), "/")
	vars := map[string]string{}
	for i, p := range parts {
		if i >= len(segs) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") {
			name := strings.Trim(p, "{}")
			if i == len(parts)-1 {
				vars[name] = strings.Join(segs[i:], "/")
				return vars, vars[name] != ""
			}
			if segs[i] == "" {
				return nil, false
			}
			vars[name] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return vars, len(parts) == len(segs)
}

// property returns the schema of a parameter name, expanding "name[n]".
func (o *Object) property(name string) (*Property, bool) {
	if p, ok := o.Properties[name]; ok {
		return p, true
	}
	i := strings.IndexFunc(name, func(r rune) bool { return r >= '0' && r <= '9' })
	if i <= 0 {
		return nil, false
	}
	n, err := strconv.Atoi(name[i:])
	if err != nil || strconv.Itoa(n) != name[i:] {
		return nil, false
	}
	p, ok := o.Properties[name[:i]+"[n]"]
	if !ok || n > p.MaxIndex {
		return nil, false
	}
	return p, true
}

// resolveNamedFormats fills in the keys of every property-string format the
// method references by name, at any depth; "pve-qm-ide" takes the keys of the
// method's ide[n] parameter, which are the same $ide_fmt.
func resolveNamedFormats(m *Method) error {
	var ide map[string]*Property
	if p, ok := m.Parameters.Properties["ide[n]"]; ok && p.Format != nil {
		ide = p.Format.Keys
	}
	var walk func(*Property) error
	walk = func(p *Property) error {
		if p == nil {
			return nil
		}
		if p.Format != nil && p.Format.Name != "" && p.Format.Keys == nil {
			keys, ok, err := namedFormat(p.Format.Name)
			if err != nil {
				return err
			}
			if ok {
				p.Format.Keys = keys
			} else if p.Format.Name == ideFormat && ide != nil {
				p.Format.Keys = ide
			}
		}
		if p.Format != nil {
			for _, k := range p.Format.Keys {
				if err := walk(k); err != nil {
					return err
				}
			}
		}
		return walk(p.Items)
	}
	for _, p := range m.Parameters.Properties {
		if err := walk(p); err != nil {
			return err
		}
	}
	return nil
}

var maxIndexRe = regexp.MustCompile(`\(n is 0 to (\d+)\)`)
