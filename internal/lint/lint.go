package lint

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Finding is one problem a step found.
type Finding struct {
	// Tool is the linter that reported it (gofmt, staticcheck, tflint, …).
	Tool string
	// File is the file relative to the repository root (a directory when
	// the tool names no file); Line is 0 when the tool names no line.
	File string
	Line int
	// Rule is the tool's name for the problem (SA4006, SC2086,
	// fqcn[action], AVD-KSV-0017, …); empty when the tool has none.
	Rule string
	// Message says what is wrong.
	Message string
}

// String renders the finding as "file:line: rule: message" (the line
// and the rule left out when unknown), prefixed by nothing else so that
// editors can jump to it.
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Line > 0 {
		b.WriteString(":" + strconv.Itoa(f.Line))
	}
	b.WriteString(": ")
	rule := f.Tool
	if f.Rule != "" {
		rule += " " + f.Rule
	}
	b.WriteString(rule + ": " + f.Message)
	return b.String()
}

// Result is what one step did.
type Result struct {
	// Files is how many files the step checked.
	Files int
	// Findings are the problems found; a step passes with none.
	Findings []Finding
	// Fixed are the files the step rewrote (Env.Fix only).
	Fixed []string
	// Exit is the exit status of the tool when it refused the files: the
	// last non-zero status of the runs of the step, 0 when every run
	// passed (or the step runs no external tool).
	Exit int
	// Note is what the summary says after "ok", e.g. that none of the
	// step's files is staged.
	Note string
}

// Env is what a step runs with.
type Env struct {
	// Root is the repository's root.
	Root string
	// Fix makes the steps that have a formatter rewrite the files
	// instead of reporting them.
	Fix bool
	// Files, when not nil, limits the steps to these files (relative to
	// Root, e.g. the files staged for a commit); a step with none of its
	// files among them checks nothing.
	Files []string
	// RequireFiles makes a step that checked no file fail (unless its
	// Note says why): set when the whole repository is checked, where
	// every step has files, so a step that lost them is not an "ok".
	RequireFiles bool
	// Tools maps a command (staticcheck, tflint, kubeconform, …) to the
	// binary to run, from the tool cache; a command not in it is looked
	// up on PATH.
	Tools map[string]string
	// Inventory is the inventory file whose tools: pin the versions of
	// the tools in the tool cache (the Terraform provider the terraform
	// step installs from it); empty means Root's homelab.yaml.
	Inventory string
	// ChartMirror is the Helm chart mirror (folder or URL) the add-on
	// manifests are rendered from; empty means the charts' repositories.
	ChartMirror string
	// Out receives the output of the tools a step runs, for a person.
	Out io.Writer
	// Log receives progress.
	Log *slog.Logger

	// render renders the add-on manifests for the manifest steps;
	// nil means RenderAddons (tests count the renders through it).
	render func(ctx context.Context, root, mirror, dir string) (*Rendered, error)
	// renders, set by Run for the run, is the rendering the manifest
	// steps share: rendered once, removed when Run ends.
	renders *renderCache
}

// Step is one check of lint.
type Step struct {
	// Name is the step's name in the summary and for -only (gofmt, vet,
	// staticcheck, shellcheck, terraform, trivy, packer, ansible-lint,
	// yamllint, kubeconform, actionlint, docs, …).
	Name string
	// Run performs the check; an error means the step could not run (a
	// missing tool, a file it cannot read), not that it found problems.
	Run func(ctx context.Context, env *Env) (Result, error)
	// Tools are the commands built from Go modules into the tool cache
	// the step runs (staticcheck, tflint, …; testsuite.GoTools), which
	// Check builds when missing with WithBuildTools; none for a step
	// running only installed or in-process tools.
	Tools []string
}
