package lint

import (
	"context"
	"path/filepath"
	"slices"

	"github.com/wdiazux/infra/internal/versions"
)

// inventoryFile is the inventory every version is checked against.
const inventoryFile = "homelab.yaml"

// Versions returns the step "versions": every Talos, Kubernetes, chart,
// tool and image version a tracked file names (docs, Terraform and Packer
// constraints, the pinned tools modules, values files, Go code) agrees
// with homelab.yaml (internal/versions has the rules). With Env.Files it
// scans only those files, unless homelab.yaml is among them: then every
// tracked file, since a change of the inventory can make any disagree.
func Versions() Step {
	return Step{Name: "versions", Run: func(ctx context.Context, env *Env) (Result, error) {
		facts, err := versions.LoadFacts(filepath.Join(env.Root, inventoryFile), inventoryFile)
		if err != nil {
			return Result{}, err
		}
		files := env.Files
		// A change of the inventory can make any file disagree.
		if files == nil || slices.Contains(files, inventoryFile) {
			if files, err = versions.TrackedFiles(ctx, env.Root); err != nil {
				return Result{}, err
			}
		}
		rep, err := versions.Scan(env.Root, files, facts)
		if err != nil {
			return Result{}, err
		}
		res := Result{Files: rep.Files}
		for _, f := range rep.Findings {
			res.Findings = append(res.Findings, Finding{Tool: "versions", File: f.File, Line: f.Line, Rule: f.Rule,
				Message: f.Message(inventoryFile)})
		}
		return res, nil
	}}
}
