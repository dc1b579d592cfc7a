package lint

import (
	"context"
	"slices"

	"github.com/wdiazux/infra/internal/docgen"
)

// Docs is the step docs: every generated part of the docs (the Terraform
// module READMEs' tables, docs/reference/targets.md,
// docs/reference/inventory.md) equals what its sources generate now. Each
// drifted file is a finding at the line of its first difference; with
// Env.Fix the step regenerates them instead. With Env.Files it checks
// nothing unless one of them is a generated doc or one of its sources,
// and then checks the working tree. A doc that cannot be generated (its
// markers missing, a field without a doc comment) is the step's error.
func Docs() Step {
	return Step{Name: "docs", Run: runDocs}
}

// runDocs runs the step docs.
func runDocs(_ context.Context, env *Env) (Result, error) {
	if env.Files != nil && !slices.ContainsFunc(env.Files, docgen.Affects) {
		return Result{}, nil
	}
	docs, err := docgen.All(env.Root)
	if err != nil {
		return Result{}, err
	}
	res := Result{Files: len(docs)}
	if env.Fix {
		res.Fixed, err = docgen.Write(env.Root, docs)
		return res, err
	}
	drifts, err := docgen.Check(env.Root, docs)
	if err != nil {
		return Result{}, err
	}
	for _, d := range drifts {
		res.Findings = append(res.Findings, Finding{
			Tool:    "docs",
			File:    d.Path,
			Line:    d.Line,
			Message: "generated section differs; run: " + docgen.Regenerate,
		})
	}
	return res, nil
}
