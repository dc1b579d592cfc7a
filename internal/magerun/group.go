package magerun

import (
	"crypto/sha256"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/magefile/mage/parse"
)

// sources is what each target file declares and uses, for working out which
// files a target needs. Compiling only those is what keeps a first run of
// config:check from compiling the Talos machinery, client-go and sops, which
// other targets import.
type sources struct {
	// declaredIn maps a package-level name ("Func", "Type", "Type.Method")
	// to the file declaring it.
	declaredIn map[string]string
	// uses maps a file to the package-level names it mentions.
	uses map[string][]string
}

func readSources(dir string, files []string) (*sources, error) {
	s := &sources{declaredIn: map[string]string{}, uses: map[string][]string{}}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, file), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		for _, decl := range f.Decls {
			for _, n := range declNames(decl) {
				s.declaredIn[n] = file
			}
		}
		seen := map[string]bool{}
		markUses(f, seen)
		s.uses[file] = slices.Sorted(maps.Keys(seen))
	}
	return s, nil
}

// markUses adds to seen every identifier in n that may name something of
// this package: not the part after a dot (x.Name is a field, a method or
// another package's name), and not a field name in a literal of another
// package's struct (pkg.Options{Secrets: …}).
func markUses(n ast.Node, seen map[string]bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			markUses(n.X, seen)
			return false
		case *ast.CompositeLit:
			if n.Type != nil {
				markUses(n.Type, seen)
			}
			_, foreign := n.Type.(*ast.SelectorExpr)
			for _, el := range n.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok && foreign {
					markUses(kv.Value, seen)
					continue
				}
				markUses(el, seen)
			}
			return false
		case *ast.Ident:
			seen[n.Name] = true
		}
		return true
	})
}

// declNames are the package-level names a declaration introduces; a method
// is "Receiver.Name".
func declNames(decl ast.Decl) []string {
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil || len(d.Recv.List) == 0 {
			return []string{d.Name.Name}
		}
		return []string{receiverName(d.Recv.List[0].Type) + "." + d.Name.Name}
	case *ast.GenDecl:
		var names []string
		for _, spec := range d.Specs {
			switch sp := spec.(type) {
			case *ast.TypeSpec:
				names = append(names, sp.Name.Name)
			case *ast.ValueSpec:
				for _, n := range sp.Names {
					names = append(names, n.Name)
				}
			}
		}
		return names
	}
	return nil
}

func receiverName(expr ast.Expr) string {
	switch e := expr.(type) {
	case *ast.StarExpr:
		return receiverName(e.X)
	case *ast.Ident:
		return e.Name
	case *ast.IndexExpr:
		return receiverName(e.X)
	}
	return ""
}

// fileOf is the file declaring a target.
func (s *sources) fileOf(fn *parse.Function) string {
	if fn.Receiver != "" {
		return s.declaredIn[fn.Receiver+"."+fn.Name]
	}
	return s.declaredIn[fn.Name]
}

// closure is every file the given files need: those declaring a name they
// use, and so on. A name a file declares itself, or a local variable that
// shadows a package-level name, may add a file that is not needed; that
// costs compile time, never correctness.
func (s *sources) closure(files []string) []string {
	need := map[string]bool{}
	queue := slices.Clone(files)
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if need[f] {
			continue
		}
		need[f] = true
		for _, name := range s.uses[f] {
			if g, ok := s.declaredIn[name]; ok && !need[g] {
				queue = append(queue, g)
			}
		}
	}
	return slices.Sorted(maps.Keys(need))
}

// Group is the set of target files one command line needs.
type Group struct {
	// Files are the files to compile, sorted.
	Files []string
	// Key names the group's build: the same files, the same binary.
	Key string
}

func newGroup(files []string) Group {
	sum := sha256.Sum256([]byte(strings.Join(files, "\x00")))
	return Group{Files: files, Key: fmt.Sprintf("%x", sum[:6])}
}

// GroupFor is the group of files the command line args needs; it fails as
// Check does.
func (t *Targets) GroupFor(args []string) (Group, error) {
	fns, err := t.read(args)
	if err != nil {
		return Group{}, err
	}
	return t.group(fns), nil
}

func (t *Targets) group(fns []*parse.Function) Group {
	var files []string
	for _, fn := range fns {
		files = append(files, t.src.fileOf(fn))
	}
	return newGroup(t.src.closure(files))
}

// Groups is the group of each target on its own, by target name: what a
// test compiles to prove each one builds without the other files.
func (t *Targets) Groups() map[string]Group {
	groups := map[string]Group{}
	for _, fn := range t.funcs {
		groups[name(fn)] = t.group([]*parse.Function{fn})
	}
	return groups
}
