package infra_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/wdiazux/infra/"

// allowedImports lists, for every package under lib/, the packages of this
// module it may import. Arrows point down: a library imports smaller
// libraries and internal/atomicfile, never a program under internal/ and
// never a bigger package for one helper. docs/reference/architecture.md
// draws the same graph; change both together.
var allowedImports = map[string][]string{
	"lib/inventory":                          nil,
	"lib/diskimage":                          nil,
	"lib/netx":                               nil,
	"lib/netx/netxtest":                      {"lib/netx"},
	"lib/plan":                               nil,
	"lib/proxmox/pve":                        nil,
	"lib/proxmox":                            {"lib/netx", "lib/proxmox/pve"},
	"lib/proxmox/pvesim":                     {"lib/diskimage", "lib/inventory", "lib/proxmox/pve", "lib/proxmox/pvesim/internal/schema"},
	"lib/proxmox/pvesim/internal/schema":     {"lib/proxmox/pve"},
	"lib/proxmox/pvesim/internal/schema/gen": {"lib/proxmox/pvesim/internal/schema"},
	"lib/preflight":                          {"lib/inventory", "lib/proxmox", "lib/proxmox/pve"},
	"lib/secrets":                            {"internal/atomicfile"},
	"lib/talosfactory":                       {"lib/inventory", "lib/netx"},
	"lib/talosfactory/factorysim":            {"lib/diskimage", "lib/talosfactory"},
	"lib/images":                             {"internal/atomicfile", "lib/cloudimage", "lib/diskimage", "lib/inventory", "lib/plan", "lib/proxmox", "lib/proxmox/pve", "lib/talosfactory", "lib/vma"},
	"lib/talosgen":                           {"internal/atomicfile", "lib/inventory", "lib/secrets", "lib/talosfactory"},
	"lib/talosnode":                          {"internal/atomicfile", "lib/inventory", "lib/netx", "lib/talosgen"},
	"lib/talosnode/nodesim":                  nil,
	"lib/k8supgrade":                         {"lib/inventory", "lib/talosgen", "lib/talosnode"},
	"lib/ansible":                            {"internal/atomicfile", "lib/inventory"},
	"lib/terraform":                          {"lib/inventory", "lib/preflight", "lib/proxmox"},
	"lib/addons":                             {"lib/helmdeploy", "lib/inventory", "lib/secrets"},
	"lib/helmdeploy":                         {"lib/netx"},
	"lib/vma":                                nil,
	"lib/cloudimage":                         {"lib/netx"},
	"lib/packer":                             {"lib/inventory", "lib/proxmox", "lib/proxmox/pve", "lib/secrets"},
	"lib/etcdbackup":                         {"lib/inventory", "lib/secrets", "lib/talosnode"},
	"lib/talosupgrade":                       {"lib/images", "lib/inventory", "lib/plan", "lib/proxmox", "lib/talosfactory", "lib/talosnode"},
	"lib/cluster":                            {"lib/images", "lib/inventory", "lib/kubenode", "lib/netx", "lib/plan", "lib/preflight", "lib/proxmox", "lib/secrets", "lib/talosgen", "lib/talosnode", "lib/terraform"},
	"lib/kubenode":                           nil,
}

// TestLibImportsPointDown holds every lib/ package to its row of
// allowedImports: a new package needs a row, a new arrow a reason.
func TestLibImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./lib/...").Output()
	require.NoError(t, err)
	seen := map[string]bool{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		pkg := strings.TrimPrefix(p.ImportPath, module)
		seen[pkg] = true
		allowed, ok := allowedImports[pkg]
		require.True(t, ok, "%s has no row in allowedImports: list the lib/ and internal/ packages it may import", pkg)
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if ours {
				require.Contains(t, allowed, dep, "%s imports %s, which its row in allowedImports does not allow", pkg, dep)
			}
		}
	}
	for pkg := range allowedImports {
		require.True(t, seen[pkg], "allowedImports has a row for %s, which is not a package", pkg)
	}
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
