package infra_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// notYetClean are the lib/ packages other branches of issue 11 clean up:
// the rules below skip them until those branches are merged, then this
// list shrinks to nothing.
var notYetClean = map[string][]string{
	"mage":    {"lib/talosgen", "lib/images", "lib/testsuite", "lib/demo", "lib/toolchain"},
	"any":     {"lib/proxmox/pvesim", "lib/talosfactory"},
	"discard": {"lib/proxmox/pvesim", "lib/talosfactory", "lib/talosgen", "lib/images", "lib/testsuite", "lib/demo", "lib/toolchain"},
}

// skipped reports whether rule does not apply yet to the file at path.
func skipped(rule, path string) bool {
	return slices.ContainsFunc(notYetClean[rule], func(dir string) bool {
		return path == dir || strings.HasPrefix(path, dir+"/")
	})
}

// libGoFiles calls f with each Go file under lib/ (tests included,
// testdata excluded), parsed.
func libGoFiles(t *testing.T, f func(path string, fset *token.FileSet, file *ast.File, src []byte)) {
	t.Helper()
	require.NoError(t, filepath.WalkDir("lib", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		require.NoError(t, err)
		f(filepath.ToSlash(path), fset, file, src)
		return nil
	}))
}

// targetNames returns the namespaced targets of magefiles/, as a person
// types them: "secrets:hook", "proxmox:preflight", ...
func targetNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("magefiles", "*.go"))
	require.NoError(t, err)
	var names []string
	for _, path := range files {
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() {
				continue
			}
			if recv, ok := fn.Recv.List[0].Type.(*ast.Ident); ok {
				names = append(names, strings.ToLower(recv.Name+":"+fn.Name.Name))
			}
		}
	}
	require.Contains(t, names, "secrets:hook", "the targets were read")
	return names
}

// TestLibStringsNameNoMageTarget: a Go program importing a lib/ package
// has no mage, so no string literal under lib/ (tests included) names mage,
// its magefiles or a target; the targets add the command to run.
func TestLibStringsNameNoMageTarget(t *testing.T) {
	var quoted []string
	for _, name := range targetNames(t) {
		quoted = append(quoted, regexp.QuoteMeta(name))
	}
	target := regexp.MustCompile(`\b(` + strings.Join(quoted, "|") + `)\b`)
	mage := regexp.MustCompile(`(?i)\bmage\b|magefile`)
	var found []string
	libGoFiles(t, func(path string, fset *token.FileSet, file *ast.File, _ []byte) {
		if skipped("mage", path) {
			return
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if imp := enclosingImport(file, lit); imp {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			pos := fset.Position(lit.Pos())
			if m := mage.FindString(s); m != "" {
				found = append(found, pos.String()+": names "+m)
			}
			for _, m := range target.FindAllString(s, -1) {
				found = append(found, pos.String()+": names the target "+m)
			}
			return true
		})
	})
	require.Empty(t, found, "return a typed or sentinel error with the facts; the target adds what to run:\n%s", strings.Join(found, "\n"))
}

// enclosingImport reports whether lit is an import path.
func enclosingImport(file *ast.File, lit *ast.BasicLit) bool {
	for _, imp := range file.Imports {
		if imp.Path == lit {
			return true
		}
	}
	return false
}

// TestLibUsesAnyAndTheDiscardHandler: lib/ spells the empty interface any,
// and a logger that drops everything is slog.DiscardHandler, not a text
// handler writing to io.Discard.
func TestLibUsesAnyAndTheDiscardHandler(t *testing.T) {
	emptyInterface := regexp.MustCompile(`interface\s*\{\s*\}`)
	handBuilt := regexp.MustCompile(`slog\.New(Text|JSON)Handler\(\s*io\.Discard`)
	var found []string
	libGoFiles(t, func(path string, fset *token.FileSet, file *ast.File, src []byte) {
		if !skipped("any", path) {
			ast.Inspect(file, func(n ast.Node) bool {
				if it, ok := n.(*ast.InterfaceType); ok && len(it.Methods.List) == 0 && emptyInterface.Match(src[fset.Position(it.Pos()).Offset:fset.Position(it.End()).Offset]) {
					found = append(found, fset.Position(it.Pos()).String()+": interface{} (write any)")
				}
				return true
			})
		}
		if !skipped("discard", path) {
			for _, loc := range handBuilt.FindAllIndex(src, -1) {
				found = append(found, path+":"+strconv.Itoa(1+strings.Count(string(src[:loc[0]]), "\n"))+": a hand-built discard logger (write slog.New(slog.DiscardHandler))")
			}
		}
	})
	require.Empty(t, found, strings.Join(found, "\n"))
}
