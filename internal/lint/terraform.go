package lint

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wdiazux/infra/internal/tfcheck"
	"github.com/wdiazux/infra/lib/inventory"
)

// inventoryFile is Env.Inventory, else Root's homelab.yaml.
func (e *Env) inventoryFile() string {
	if e.Inventory != "" {
		return e.Inventory
	}
	return filepath.Join(e.Root, inventory.DefaultFile)
}

// Terraform is the terraform step: terraform fmt -check, terraform
// validate and tflint (.tflint.hcl) in every directory under terraform/
// holding *.tf (tfcheck.Dirs), through internal/tfcheck; trivy is a step
// of its own. With Env.Files only the directories holding a staged file
// are checked. With Env.Fix, terraform fmt rewrites the files first.
func Terraform() Step {
	return Step{Name: "terraform", Tools: []string{"tflint", "terraform-provider-proxmox"}, Run: func(ctx context.Context, env *Env) (Result, error) {
		dirs, err := tfcheck.Dirs(env.Root)
		if err != nil {
			return Result{}, err
		}
		tfFiles, err := env.files(ctx, func(path string) bool { return strings.HasPrefix(path, tfcheck.Dir+"/") })
		if err != nil {
			return Result{}, err
		}
		var res Result
		var checked []string
		for _, d := range dirs {
			if env.Files != nil && !containsDir(tfFiles, d) {
				continue
			}
			checked = append(checked, d)
		}
		all, err := RepoFiles(ctx, env.Root)
		if err != nil {
			return res, err
		}
		for _, f := range all {
			if filepath.Ext(f) == ".tf" && inAny(f, checked) {
				res.Files++
			}
		}
		if len(checked) == 0 {
			if env.Files != nil {
				res.Note = NoneStaged
				return res, nil
			}
			return res, fmt.Errorf("no directory with *.tf files under %s: nothing to check", filepath.Join(env.Root, tfcheck.Dir))
		}
		tools, err := tfcheck.LookupTools(env.inventoryFile(), tfcheck.CheckFmt, tfcheck.CheckValidate, tfcheck.CheckTFLint)
		if err != nil {
			return res, fmt.Errorf("%w: %w", ErrToolMissing, err)
		}
		if p, ok := env.Tools["terraform"]; ok {
			tools.Terraform = p
		}
		if p, ok := env.Tools["tflint"]; ok {
			tools.TFLint = p
		}
		c := tfcheck.New(env.Root, tools, tfcheck.WithLogger(env.Log))
		if env.Fix {
			for _, d := range checked {
				fixed, err := c.FmtWrite(ctx, d)
				if err != nil {
					return res, err
				}
				res.Fixed = append(res.Fixed, fixed...)
			}
		}
		found, err := c.Lint(ctx, checked)
		if err != nil {
			return res, err
		}
		for _, f := range found {
			rule := f.Check
			if f.Rule != "" {
				rule += "/" + f.Rule
			}
			msg := f.Message
			if f.Severity != "" {
				msg += " (" + f.Severity + ")"
			}
			res.Exit = max(res.Exit, f.Exit)
			res.Findings = append(res.Findings, Finding{Tool: "terraform", File: f.File, Line: f.Line, Rule: rule, Message: msg})
		}
		return res, nil
	}}
}

// containsDir reports whether one of files lies directly in dir.
func containsDir(files []string, dir string) bool {
	for _, f := range files {
		if filepath.Dir(f) == dir {
			return true
		}
	}
	return false
}

// inAny reports whether file lies directly in one of dirs.
func inAny(file string, dirs []string) bool {
	return slices.Contains(dirs, filepath.Dir(file))
}
