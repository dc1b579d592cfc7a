package tfmodule

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Variable is one input of a module: a variable block.
type Variable struct {
	// Name is the variable's name.
	Name string
	// Type is the type constraint as written ("" when there is none).
	Type string
	// Default is the default value as written; Required when it has none.
	Default string
	// Required says the variable has no default.
	Required bool
	// Description is its description attribute.
	Description string
}

// Output is one output of a module: an output block.
type Output struct {
	// Name is the output's name.
	Name string
	// Description is its description attribute.
	Description string
}

// Module is what a module declares, in the order of its files (sorted by
// name) and of the blocks in each.
type Module struct {
	// Variables are the module's inputs.
	Variables []Variable
	// Outputs are the module's outputs.
	Outputs []Output
}

// Parse reads the *.tf files of the module in dir. A file that does not
// parse, a variable or output without a description, or a description that
// is not a plain string is an error naming the file and line.
func Parse(dir string) (*Module, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("terraform module %s: no *.tf files", dir)
	}
	slices.Sort(files)
	parser := hclparse.NewParser()
	m := &Module{}
	for _, path := range files {
		f, diags := parser.ParseHCLFile(path)
		if diags.HasErrors() {
			return nil, fmt.Errorf("terraform module %s: %w", dir, diags)
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			return nil, fmt.Errorf("terraform module %s: %s is not native HCL syntax", dir, path)
		}
		for _, block := range body.Blocks {
			if len(block.Labels) != 1 {
				continue
			}
			switch block.Type {
			case "variable":
				v, err := variable(block, f.Bytes)
				if err != nil {
					return nil, err
				}
				m.Variables = append(m.Variables, v)
			case "output":
				desc, err := description(block)
				if err != nil {
					return nil, err
				}
				m.Outputs = append(m.Outputs, Output{Name: block.Labels[0], Description: desc})
			}
		}
	}
	return m, nil
}

// variable reads a variable block; src is its file's text.
func variable(block *hclsyntax.Block, src []byte) (Variable, error) {
	desc, err := description(block)
	if err != nil {
		return Variable{}, err
	}
	v := Variable{Name: block.Labels[0], Description: desc, Required: true}
	if a, ok := block.Body.Attributes["type"]; ok {
		v.Type = sourceText(a.Expr.Range(), src)
	}
	if a, ok := block.Body.Attributes["default"]; ok {
		v.Default, v.Required = sourceText(a.Expr.Range(), src), false
	}
	return v, nil
}

// description returns a block's description, which must be a plain string.
func description(block *hclsyntax.Block) (string, error) {
	where := fmt.Sprintf("%s %q at %s", block.Type, block.Labels[0], block.DefRange())
	a, ok := block.Body.Attributes["description"]
	if !ok {
		return "", fmt.Errorf("%s has no description: add one, the README's tables are made from it", where)
	}
	val, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !val.Type().Equals(cty.String) || val.IsNull() {
		return "", fmt.Errorf("%s: the description must be a plain string (no references or templates)", where)
	}
	return val.AsString(), nil
}

// spaces matches a run of white space, which a table cell holds as one.
var spaces = regexp.MustCompile(`\s+`)

// sourceText returns the text of r in src on one line: the lines of a
// multi-line object or list joined with ", " where a line ends an element
// (it does not open a bracket or end in a comma, and the next does not
// close one), with " " elsewhere.
func sourceText(r hcl.Range, src []byte) string {
	var b strings.Builder
	prev := ""
	for line := range strings.Lines(string(r.SliceBytes(src))) {
		line = strings.TrimSpace(spaces.ReplaceAllString(line, " "))
		if line == "" {
			continue
		}
		if prev != "" {
			if strings.ContainsAny(prev[len(prev)-1:], "{([,") || strings.ContainsAny(line[:1], "})]") {
				b.WriteString(" ")
			} else {
				b.WriteString(", ")
			}
		}
		b.WriteString(line)
		prev = line
	}
	return b.String()
}

// Markdown renders the module's inputs and outputs as Markdown tables.
func (m *Module) Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("## Inputs\n\n| Name | Description | Type | Default | Required |\n|---|---|---|---|:---:|\n")
	for _, v := range m.Variables {
		def, req := "n/a", "yes"
		if !v.Required {
			def, req = code(v.Default), "no"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", v.Name, cell(v.Description), code(v.Type), def, req)
	}
	b.WriteString("\n## Outputs\n\n| Name | Description |\n|---|---|\n")
	for _, o := range m.Outputs {
		fmt.Fprintf(&b, "| `%s` | %s |\n", o.Name, cell(o.Description))
	}
	return b.Bytes()
}

// cell makes text fit a table cell: one line, pipes escaped.
func cell(s string) string {
	return strings.ReplaceAll(spaces.ReplaceAllString(strings.TrimSpace(s), " "), "|", `\|`)
}

// code renders HCL source as inline code in a table cell ("" stays empty).
func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + cell(s) + "`"
}
