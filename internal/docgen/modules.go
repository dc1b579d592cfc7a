package docgen

import (
	"fmt"
	"path"
	"path/filepath"

	"github.com/wdiazux/infra/internal/tfmodule"
)

// ModulesDir is where the Terraform modules live, relative to the root.
const ModulesDir = "terraform/modules"

// Modules are the README.md of every module under root's ModulesDir, each
// with one generated part: the module's inputs and outputs tables.
func Modules(root string) ([]Doc, error) {
	dirs, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(ModulesDir), "*", "*.tf"))
	if err != nil {
		return nil, err
	}
	var docs []Doc
	seen := map[string]bool{}
	for _, tf := range dirs {
		dir := filepath.Dir(tf)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		docs = append(docs, Module(root, path.Join(ModulesDir, filepath.Base(dir))))
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("generated docs: no Terraform module under %s", filepath.Join(root, ModulesDir))
	}
	return docs, nil
}

// Module is the README.md of the module in dir (relative to root).
func Module(root, dir string) Doc {
	return Doc{
		Path: path.Join(dir, "README.md"),
		Sections: func() ([]Section, error) {
			m, err := tfmodule.Parse(filepath.Join(root, filepath.FromSlash(dir)))
			if err != nil {
				return nil, err
			}
			return []Section{{Body: m.Markdown()}}, nil
		},
	}
}
