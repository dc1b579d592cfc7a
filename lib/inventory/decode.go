package inventory

import (
	"encoding"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// decoder turns a YAML node tree into typed structs, recording the line of
// every field path and collecting every problem instead of stopping at the
// first one.
type decoder struct {
	*problems
	fields map[reflect.Type][]fieldInfo
}

// fieldInfo is what the decoder needs to know about one struct field.
type fieldInfo struct {
	key      string
	index    int
	optional bool
}

// decodeDocument parses data and decodes its single document into out. It
// reports whether there was a document to decode.
func (d *decoder) decodeDocument(data []byte, out *Inventory) bool {
	if line, col, off, ok := invalidUTF8(data); ok {
		d.at(line, "", "malformed YAML: invalid UTF-8 at column %d (byte 0x%02x at offset %d); save the file as UTF-8", col, data[off], off)
		return false
	}
	root, err := parseYAML(data)
	if err != nil {
		line, msg := syntaxProblem(data, err)
		d.at(line, "", "malformed YAML: %s", msg)
		return false
	}
	if root == nil {
		d.at(0, "", "the file is empty; start from the homelab.yaml in the repository")
		return false
	}
	d.pos[""] = root.Line
	d.decode(root, reflect.ValueOf(out).Elem(), "")
	return true
}

// parseYAML returns the content node of the only document in data, nil for an
// empty file, or an error for malformed YAML or more than one document.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 panics on a few pathological inputs; report them as
		// malformed YAML rather than crash the caller.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: a second YAML document starts here; the inventory is a single document", extra.Line)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	// textTypes describes the types decoded from a string through
	// encoding.TextUnmarshaler.
	textTypes = map[reflect.Type]string{
		reflect.TypeFor[netip.Addr]():   "an IP address such as 10.10.2.10",
		reflect.TypeFor[netip.Prefix](): "a CIDR prefix such as 10.10.2.0/24",
	}
)

// decode decodes n into v, the value at path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if _, ok := d.pos[path]; !ok {
		d.pos[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		d.at(n.Line, path, "aliases (*%s) are not supported: Terraform, Packer and Ansible read this file too; write the value out in full", n.Value)
		return
	}
	if n.Anchor != "" {
		d.at(n.Line, path, "anchors (&%s) are not supported: Terraform, Packer and Ansible read this file too; write values out in full", n.Anchor)
	}
	if desc, ok := textTypes[v.Type()]; ok && reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		d.decodeText(n, v, path, desc)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if d.expectScalar(n, path, "a string", "!!str") {
			v.SetString(n.Value)
		}
	case reflect.Int:
		if d.expectScalar(n, path, "an integer", "!!int") {
			d.decodeInt(n, v, path)
		}
	case reflect.Bool:
		if d.expectScalar(n, path, "true or false", "!!bool") {
			var b bool
			if err := n.Decode(&b); err != nil {
				d.add(path, "expected true or false, got %s", describe(n))
				return
			}
			v.SetBool(b)
		}
	default:
		panic(fmt.Sprintf("inventory: no decoder for %s at %s", v.Type(), path))
	}
}

// expectScalar reports whether n is a scalar with the given tag, recording a
// type problem otherwise.
func (d *decoder) expectScalar(n *yaml.Node, path, want, tag string) bool {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == tag {
		return true
	}
	hint := ""
	if tag == "!!str" && n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		hint = fmt.Sprintf(` (quote it: "%s")`, n.Value)
	}
	d.add(path, "expected %s, got %s%s", want, describe(n), hint)
	return false
}

// decimalRe matches an integer written in plain decimal.
var decimalRe = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)

// decodeInt decodes an integer scalar written in decimal. YAML also reads
// 0x97, 0o227, 0b1, 1_000 and +5 as integers, and 0227 as octal 151 where a
// YAML 1.2 reader sees 227; the inventory refuses them all rather than let
// the tools that read the file disagree on a number.
func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) {
	var i int64
	if err := n.Decode(&i); err != nil || i < math.MinInt32 || i > math.MaxInt32 {
		d.add(path, "%s is out of range", n.Value)
		return
	}
	if !decimalRe.MatchString(n.Value) {
		d.add(path, "%s is read as %d; write integers in decimal", n.Value, i)
		return
	}
	v.SetInt(i)
}

// decodeText decodes a scalar through the value's encoding.TextUnmarshaler.
func (d *decoder) decodeText(n *yaml.Node, v reflect.Value, path, desc string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.add(path, "expected %s, got %s", desc, describe(n))
		return
	}
	u, _ := v.Addr().Interface().(encoding.TextUnmarshaler)
	if err := u.UnmarshalText([]byte(n.Value)); err != nil {
		d.add(path, "%q is not %s", n.Value, desc)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	fields := d.fieldsOf(v.Type())
	present := map[string]bool{}
	ok := d.eachEntry(n, path, func(k, val *yaml.Node, key, sub string) {
		idx := slices.IndexFunc(fields, func(f fieldInfo) bool { return f.key == key })
		if idx < 0 {
			meant := misspelt(key, fields)
			if meant != "" {
				// The misspelling stands for the field; do not also
				// report that field as missing.
				present[meant] = true
				d.failed[joinPath(path, meant)] = true
			}
			d.at(k.Line, sub, "unknown field%s", unknownField{key, meant, fields})
			return
		}
		present[key] = true
		if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null" {
			if !fields[idx].optional {
				d.at(k.Line, sub, "required field has no value")
			}
			return
		}
		d.decode(val, v.Field(fields[idx].index), sub)
	})
	if !ok {
		return
	}
	for _, f := range fields {
		if !present[f.key] && !f.optional {
			d.at(d.pos.line(path), joinPath(path, f.key), "required field is missing")
		}
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.add(path, "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, el := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		d.pos[sub] = el.Line
		d.decode(el, s.Index(i), sub)
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	if d.eachEntry(n, path, func(_, val *yaml.Node, key, sub string) {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, sub)
		m.SetMapIndex(reflect.ValueOf(key), elem)
	}) {
		v.Set(m)
	}
}

// eachEntry calls fn for every entry of the mapping n that has a plain,
// unique key, after recording the line of the entry's path. It reports
// whether n was a mapping at all.
func (d *decoder) eachEntry(n *yaml.Node, path string, fn func(k, val *yaml.Node, key, sub string)) bool {
	if n.Kind != yaml.MappingNode {
		d.add(path, "expected a mapping, got %s", describe(n))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.mappingKey(k, path, seen)
		if !ok {
			continue
		}
		sub := joinPath(path, key)
		d.pos[sub] = k.Line
		fn(k, val, key, sub)
	}
	return true
}

// mappingKey returns a mapping key as a string, rejecting non-scalar and
// duplicate keys.
func (d *decoder) mappingKey(k *yaml.Node, path string, seen map[string]int) (string, bool) {
	if k.Kind != yaml.ScalarNode || k.Value == "<<" {
		d.at(k.Line, path, "keys must be plain strings (merge keys and complex keys are not supported)")
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		d.at(k.Line, joinPath(path, k.Value), "duplicate key; it is first set on line %d", first)
		return "", false
	}
	seen[k.Value] = k.Line
	return k.Value, true
}

// fieldsOf lists the YAML fields of a struct type.
func (d *decoder) fieldsOf(t reflect.Type) []fieldInfo {
	if fs, ok := d.fields[t]; ok {
		return fs
	}
	var fs []fieldInfo
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		fs = append(fs, fieldInfo{key: name, index: i, optional: opts == "omitempty"})
	}
	d.fields[t] = fs
	return fs
}

// secretKey matches keys that look like credentials.
var secretKey = regexp.MustCompile(`(?i)(token|secret|password|passwd|private_key|api_key|url)$`)

// misspelt returns the field key is likely a misspelling of, or "".
func misspelt(key string, fields []fieldInfo) string {
	lower := strings.ToLower(key)
	n := utf8.RuneCountInString(lower)
	meant, bestDist := "", 3
	for _, f := range fields {
		// The distance is at least the difference in length.
		if abs(n-len(f.key)) >= bestDist {
			continue
		}
		if dist := editDistance(lower, f.key); dist < bestDist {
			meant, bestDist = f.key, dist
		}
	}
	return meant
}

// unknownField says what an unknown key may have meant. It is a message
// argument, formatted only if the problem is among those listed.
type unknownField struct {
	key, meant string
	fields     []fieldInfo
}

// String is the hint that follows "unknown field".
func (u unknownField) String() string {
	var hint string
	switch {
	case u.meant != "":
		hint = fmt.Sprintf("; did you mean %q?", u.meant)
	case secretKey.MatchString(u.key):
		hint = "; credentials and endpoints never go in the inventory: the Proxmox URL and token come from the environment (PROXMOX_URL, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET), other secrets from secrets/*.enc.yaml"
	default:
		known := make([]string, len(u.fields))
		for i, f := range u.fields {
			known[i] = f.key
		}
		hint = "; expected one of: " + strings.Join(known, ", ")
	}
	if d := nonASCII(u.key); d != "" {
		// A look-alike letter prints like the suggestion; name it.
		hint = fmt.Sprintf("; key %q has %s%s", u.key, d, hint)
	}
	return hint
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance between the characters of a and b.
func editDistance(sa, sb string) int {
	a, b := []rune(sa), []rune(sb)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names what a node holds, for type errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing (null)"
	case "!!str":
		return fmt.Sprintf("string %q", n.Value)
	case "!!int":
		return "integer " + n.Value
	case "!!float":
		return "number " + n.Value
	case "!!bool":
		return "boolean " + n.Value
	default:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
	}
}

// joinPath appends a key to a field path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
