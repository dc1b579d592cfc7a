package docgen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/inventory"
)

// InventoryPage is the inventory reference, relative to the root.
const InventoryPage = "docs/reference/inventory.md"

// InventoryPackage is the directory of the inventory's Go source,
// relative to the root.
const InventoryPackage = "lib/inventory"

// Inventory is the inventory reference: a generated table of the top-level
// fields (part "top-level"), one of each top-level field's fields (part
// named by its key, e.g. "network") and the Talos/Kubernetes support table
// (part "talos-releases"), made from the structs under root's
// InventoryPackage, from Inventory down.
func Inventory(root string) Doc {
	return Doc{
		Path: InventoryPage,
		Sections: func() ([]Section, error) {
			rows, err := InventoryFields(filepath.Join(root, filepath.FromSlash(InventoryPackage)), "Inventory")
			if err != nil {
				return nil, err
			}
			sections := InventoryMarkdown(rows, path.Dir(InventoryPage))
			return append(sections, Section{Name: "talos-releases", Body: talosReleases()}), nil
		},
	}
}

// Field is one row of the inventory reference.
type Field struct {
	// Path is the field's path in the file: "[]" for list items,
	// "<name>" for mapping keys, e.g. "talos.nodes[].gpu.pci".
	Path string
	// Type is what the value is, e.g. "IPv4 address, optional".
	Type string
	// Description is the field's doc comment without its directives.
	Description string
}

// The directives a field's doc comment may end with, each on its own
// line; the generator reads them and leaves them out of the description:
//
//	Type: VM ID                the Type column, when the Go type says too little
//	Key: <os>                  a mapping's key placeholder in the paths
//	Value type: version        a mapping of scalars: its values' Type column
//	Value: Version of a tool…  a mapping of scalars: its values' description, to the comment's end
const (
	directiveType      = "Type: "
	directiveKey       = "Key: "
	directiveValueType = "Value type: "
	directiveValue     = "Value: "
)

// source is the package's struct declarations, parsed.
type source struct {
	fset    *token.FileSet
	structs map[string]*ast.StructType
}

// InventoryFields parses the Go package in dir and lists the fields of
// the struct top and of every struct it holds, depth first in declaration
// order. A struct type that several fields of one struct share (Range) is
// documented once, under "<range>". A field without a yaml key or without
// a doc comment is an error naming its file and line.
func InventoryFields(dir, top string) ([]Field, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	src := &source{fset: fset, structs: map[string]*ast.StructType{}}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("inventory reference: %w", err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					src.structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	st, ok := src.structs[top]
	if !ok {
		return nil, fmt.Errorf("inventory reference: no struct %s in %s", top, dir)
	}
	var rows []Field
	return rows, src.walk(st, "", &rows)
}

// walk appends the rows of the fields of st, whose path is prefix.
func (s *source) walk(st *ast.StructType, prefix string, rows *[]Field) error {
	uses := map[string]int{}
	for _, f := range st.Fields.List {
		if id, ok := f.Type.(*ast.Ident); ok && s.structs[id.Name] != nil {
			uses[id.Name] += len(f.Names)
		}
	}
	shared := map[string]bool{}
	for _, f := range st.Fields.List {
		if f.Tag == nil || len(f.Names) != 1 {
			return fmt.Errorf("%s: every field of the inventory needs a line of its own and a yaml key", s.fset.Position(f.Pos()))
		}
		tag, err := strconv.Unquote(f.Tag.Value)
		if err != nil {
			return fmt.Errorf("%s: %w", s.fset.Position(f.Pos()), err)
		}
		yamlTag := reflect.StructTag(tag).Get("yaml")
		key, opts, _ := strings.Cut(yamlTag, ",")
		if key == "" || key == "-" {
			return fmt.Errorf("%s: field %s has no yaml key", s.fset.Position(f.Pos()), f.Names[0].Name)
		}
		p := key
		if prefix != "" {
			p = prefix + "." + key
		}
		if f.Doc == nil || strings.TrimSpace(f.Doc.Text()) == "" {
			return fmt.Errorf("%s: field %s (%s) has no doc comment: write the reference's description above it", s.fset.Position(f.Pos()), f.Names[0].Name, p)
		}
		c := parseComment(f.Doc.Text())
		typ := c.typ
		id, _ := f.Type.(*ast.Ident)
		sharedType := id != nil && uses[id.Name] > 1
		if typ == "" {
			typ = s.typeName(f.Type)
			if sharedType {
				typ = strings.ToLower(id.Name)
			}
		}
		if strings.Contains(opts, "omitempty") {
			typ += ", optional"
		}
		*rows = append(*rows, Field{Path: p, Type: typ, Description: c.text})
		if sharedType {
			shared[id.Name] = true
			continue
		}
		if err := s.descend(f, p, c, rows); err != nil {
			return err
		}
	}
	for _, f := range st.Fields.List {
		id, _ := f.Type.(*ast.Ident)
		if id != nil && shared[id.Name] {
			delete(shared, id.Name)
			if err := s.walk(s.structs[id.Name], prefix+".<"+strings.ToLower(id.Name)+">", rows); err != nil {
				return err
			}
		}
	}
	return nil
}

// descend appends the rows under field f (path p, comment c): its struct's
// fields, a list's items' or a mapping's values'.
func (s *source) descend(f *ast.Field, p string, c comment, rows *[]Field) error {
	switch t := f.Type.(type) {
	case *ast.Ident:
		if st := s.structs[t.Name]; st != nil {
			return s.walk(st, p, rows)
		}
	case *ast.ArrayType:
		if id, ok := t.Elt.(*ast.Ident); ok && s.structs[id.Name] != nil {
			return s.walk(s.structs[id.Name], p+"[]", rows)
		}
	case *ast.MapType:
		if c.key == "" {
			return fmt.Errorf("%s: mapping %s has no %q line in its doc comment naming its keys", s.fset.Position(f.Pos()), p, strings.TrimSpace(directiveKey))
		}
		p += "." + c.key
		if id, ok := t.Value.(*ast.Ident); ok && s.structs[id.Name] != nil {
			return s.walk(s.structs[id.Name], p, rows)
		}
		if c.value == "" {
			return fmt.Errorf("%s: mapping %s has no %q line in its doc comment describing its values", s.fset.Position(f.Pos()), p, strings.TrimSpace(directiveValue))
		}
		typ := c.valueType
		if typ == "" {
			typ = s.typeName(t.Value)
		}
		*rows = append(*rows, Field{Path: p, Type: typ, Description: c.value})
	}
	return nil
}

// typeName is what the reference calls a Go type.
func (s *source) typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		switch {
		case s.structs[t.Name] != nil:
			return "mapping"
		case t.Name == "int":
			return "integer"
		case t.Name == "bool":
			return "boolean"
		}
		return t.Name
	case *ast.SelectorExpr:
		switch x, _ := t.X.(*ast.Ident); x.Name + "." + t.Sel.Name {
		case "netip.Addr":
			return "IPv4 address"
		case "netip.Prefix":
			return "IPv4 CIDR"
		}
	case *ast.ArrayType:
		elem := s.typeName(t.Elt)
		if elem == "mapping" {
			return "list"
		}
		if strings.HasSuffix(elem, "s") {
			return "list of " + elem + "es"
		}
		return "list of " + elem + "s"
	case *ast.MapType:
		return "mapping"
	}
	return fmt.Sprintf("%T", e)
}

// comment is a field's doc comment split into its description and its
// directives.
type comment struct {
	text, typ, key, valueType, value string
}

// parseComment reads a doc comment's directives; every other line is the
// description, joined into one.
func parseComment(doc string) comment {
	var c comment
	var text []string
	lines := strings.Split(strings.TrimSpace(doc), "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, directiveType):
			c.typ = strings.TrimPrefix(line, directiveType)
		case strings.HasPrefix(line, directiveKey):
			c.key = strings.TrimPrefix(line, directiveKey)
		case strings.HasPrefix(line, directiveValueType):
			c.valueType = strings.TrimPrefix(line, directiveValueType)
		case strings.HasPrefix(line, directiveValue):
			c.value = cell(strings.TrimPrefix(line, directiveValue) + " " + strings.Join(lines[i+1:], " "))
			c.text = cell(strings.Join(text, " "))
			return c
		default:
			text = append(text, line)
		}
	}
	c.text = cell(strings.Join(text, " "))
	return c
}

// InventoryMarkdown renders rows as the reference's tables: part
// "top-level" with the fields of the file's top level, then a part per
// top-level field with its fields, named by its key. dir is the page's
// directory, for links.
func InventoryMarkdown(rows []Field, dir string) []Section {
	var sections []Section
	var top bytes.Buffer
	parts := map[string]*bytes.Buffer{}
	for _, r := range rows {
		head := r.Path
		if i := strings.IndexAny(head, ".["); i >= 0 {
			head = head[:i]
		}
		b := &top
		if head != r.Path {
			b = parts[head]
		}
		if b == nil {
			b = &bytes.Buffer{}
			parts[head] = b
			sections = append(sections, Section{Name: head})
		}
		if b.Len() == 0 {
			b.WriteString("| Field | Type | Description |\n|---|---|---|\n")
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", r.Path, r.Type, linkDocs(r.Description, dir))
	}
	for i := range sections {
		sections[i].Body = parts[sections[i].Name].Bytes()
	}
	return append([]Section{{Name: "top-level", Body: top.Bytes()}}, sections...)
}

// talosReleases is the table of the Talos releases the inventory knows
// and the Kubernetes releases each supports.
func talosReleases() []byte {
	var b bytes.Buffer
	b.WriteString("| Talos | Kubernetes |\n|---|---|\n")
	for _, r := range inventory.TalosReleases() {
		o, n := r.OldestKubernetes, r.NewestKubernetes
		fmt.Fprintf(&b, "| %s | %d.%d to %d.%d |\n", r.Talos, o.Major, o.Minor, n.Major, n.Minor)
	}
	return b.Bytes()
}
