package versions

import (
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

// yamlCharts finds, in every document of a YAML file, the mappings that
// name a chart of the inventory (chart: or name:) and a version.
func (r *rules) yamlCharts(rel string, data []byte) []Finding {
	var out []Finding
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			break // the end, or not plain YAML (a template): yamllint's business
		}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode {
				var name string
				var ver *yaml.Node
				for i := 0; i+1 < len(n.Content); i += 2 {
					k, v := strings.ToLower(n.Content[i].Value), n.Content[i+1]
					switch {
					case (k == "chart" || k == "name") && v.Kind == yaml.ScalarNode:
						if _, ok := r.charts[strings.ToLower(v.Value)]; ok {
							name = strings.ToLower(v.Value)
						}
					case k == "version" && v.Kind == yaml.ScalarNode:
						ver = v
					}
				}
				if name != "" && ver != nil {
					r.checked++
				}
				if name != "" && ver != nil && !agrees(ver.Value, r.charts[name].Version) {
					out = append(out, Finding{File: rel, Line: ver.Line, Rule: "chart",
						Text: "chart " + name + " version " + ver.Value, Found: ver.Value, Fact: r.charts[name]})
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
	}
	return out
}

// hcl checks the version constraints of a Terraform (kind terraform) or
// Packer (kind packer) file: required_version against tools.<kind>,
// required_providers against tools.terraform-provider-<type>,
// required_plugins against tools.packer-plugin-<name>.
func (r *rules) hcl(rel string, data []byte, kind string) ([]Finding, error) {
	file, diags := hclsyntax.ParseConfig(data, rel, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil // terraform validate / packer validate report it
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil, nil
	}
	requires, prefix := "required_providers", "terraform-provider-"
	if kind == "packer" {
		requires, prefix = "required_plugins", "packer-plugin-"
	}
	var out []Finding
	check := func(line int, tool, constraint string) {
		text := fmt.Sprintf("%s: version %q", tool, constraint)
		fact, ok := r.facts.Tools[tool]
		if !ok {
			out = append(out, Finding{File: rel, Line: line, Rule: kind, Text: text, Found: constraint, Missing: "tools." + tool})
			return
		}
		for _, floor := range floors(constraint) {
			r.checked++
			if !agrees(floor, fact.Version) {
				out = append(out, Finding{File: rel, Line: line, Rule: kind, Text: text, Found: floor, Fact: fact})
			}
		}
	}
	for _, top := range body.Blocks {
		if top.Type != kind {
			continue
		}
		if a, ok := top.Body.Attributes["required_version"]; ok {
			if s, ok := stringValue(a.Expr); ok {
				check(a.SrcRange.Start.Line, kind, s)
			}
		}
		for _, b := range top.Body.Blocks {
			if b.Type != requires {
				continue
			}
			for _, a := range b.Body.Attributes {
				obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
				if !ok {
					continue
				}
				var source, constraint string
				line := a.SrcRange.Start.Line
				for _, item := range obj.Items {
					key, _ := stringValue(item.KeyExpr)
					val, _ := stringValue(item.ValueExpr)
					switch key {
					case "source":
						source = val
					case "version":
						constraint, line = val, item.ValueExpr.Range().Start.Line
					}
				}
				if constraint == "" {
					continue
				}
				name := a.Name
				if source != "" {
					name = path.Base(source)
				}
				check(line, prefix+name, constraint)
			}
		}
	}
	return out, nil
}

// stringValue is the value of a literal string (or bare word, for object
// keys) expression.
func stringValue(e hclsyntax.Expression) (string, bool) {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if name := hcl.ExprAsKeyword(k.Wrapped); name != "" {
			return name, true
		}
		e = k.Wrapped
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// floors are the lowest versions a constraint admits: the versions after
// >=, ~>, = or none; bounds from above (<, <=, !=) are no floor.
func floors(constraint string) []string {
	var out []string
	for _, part := range strings.Split(constraint, ",") {
		p := strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(p, ">="), strings.HasPrefix(p, "~>"):
			p = p[2:]
		case strings.HasPrefix(p, "<"), strings.HasPrefix(p, "!="), strings.HasPrefix(p, ">"):
			continue
		}
		if p = strings.TrimSpace(strings.TrimPrefix(p, "=")); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// toolsModule returns the tool whose pinned tools module go.mod rel is
// (…/toolchain/modules/<tool>/go.mod), or "".
func toolsModule(rel string) string {
	dir := path.Dir(rel)
	if path.Base(rel) != "go.mod" || path.Base(path.Dir(dir)) != "modules" || path.Base(path.Dir(path.Dir(dir))) != "toolchain" {
		return ""
	}
	return path.Base(dir)
}

// ToolsModule is a pinned tools module: internal/toolchain/modules/<Tool>,
// whose go.mod requires Module (the module holding the packages its
// tools.go imports) at Version, on Line.
type ToolsModule struct {
	Tool, GoMod, Module, Version string
	Line                         int
}

// ToolsModules lists the pinned tools modules under root
// (internal/toolchain/modules/*/go.mod).
func ToolsModules(root string) ([]ToolsModule, error) {
	mods, err := filepath.Glob(filepath.Join(root, "internal", "toolchain", "modules", "*", "go.mod"))
	if err != nil {
		return nil, err
	}
	var out []ToolsModule
	for _, m := range mods {
		rel, err := filepath.Rel(root, m)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		tm, err := readToolsModule(root, filepath.ToSlash(rel), data)
		if err != nil {
			return nil, err
		}
		out = append(out, tm)
	}
	return out, nil
}

// readToolsModule reads the tools module whose go.mod is rel.
func readToolsModule(root, rel string, data []byte) (ToolsModule, error) {
	toolsGo := path.Join(path.Dir(rel), "tools.go")
	src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(toolsGo)))
	if err != nil {
		return ToolsModule{}, fmt.Errorf("%s: read the tools module's imports: %w", rel, err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), toolsGo, src, parser.ImportsOnly)
	if err != nil {
		return ToolsModule{}, fmt.Errorf("%s: %w", toolsGo, err)
	}
	var imports []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		imports = append(imports, p)
	}
	tm := ToolsModule{Tool: toolsModule(rel), GoMod: rel}
	for _, req := range requires(data) {
		for _, imp := range imports {
			if (imp == req.path || strings.HasPrefix(imp, req.path+"/")) && len(req.path) > len(tm.Module) {
				tm.Module, tm.Version, tm.Line = req.path, req.version, req.line
			}
		}
	}
	if tm.Module == "" {
		return ToolsModule{}, fmt.Errorf("%s: %w: it requires no module holding %s (imported by %s)", rel, errNoToolModule, strings.Join(imports, ", "), toolsGo)
	}
	return tm, nil
}

// gomod checks that a pinned tools module requires its tool's module (the
// require that holds the packages tools.go imports) at tools.<tool>.
func (r *rules) gomod(root, rel string, data []byte) ([]Finding, error) {
	tm, err := readToolsModule(root, rel, data)
	if err != nil {
		return nil, err
	}
	text := "require " + tm.Module + " " + tm.Version
	r.checked++
	fact, ok := r.facts.Tools[tm.Tool]
	switch {
	case !ok:
		return []Finding{{File: rel, Line: tm.Line, Rule: "gomod", Text: text, Found: tm.Version, Missing: "tools." + tm.Tool}}, nil
	case strings.TrimPrefix(tm.Version, "v") != strings.TrimPrefix(fact.Version, "v"):
		return []Finding{{File: rel, Line: tm.Line, Rule: "gomod", Text: text, Found: tm.Version, Fact: fact}}, nil
	}
	return nil, nil
}

// errNoToolModule says a tools module's go.mod requires none of the
// modules its tools.go imports.
var errNoToolModule = errors.New("not a pinned tools module")

// require is one module a go.mod requires.
type require struct {
	path, version string
	line          int
}

// requires lists the go.mod's require directives (single and in blocks).
func requires(data []byte) []require {
	var out []require
	inBlock := false
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		l = strings.TrimSpace(strings.SplitN(l, "//", 2)[0])
		switch {
		case l == "require (":
			inBlock = true
			continue
		case inBlock && l == ")":
			inBlock = false
			continue
		case strings.HasPrefix(l, "require "):
			l = strings.TrimSpace(strings.TrimPrefix(l, "require "))
		case !inBlock:
			continue
		}
		if f := strings.Fields(l); len(f) == 2 {
			out = append(out, require{path: f[0], version: f[1], line: i + 1})
		}
	}
	return out
}
