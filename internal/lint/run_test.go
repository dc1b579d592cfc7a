package lint_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/lint"
)

func TestFindingString(t *testing.T) {
	tests := []struct {
		f    lint.Finding
		want string
	}{
		{lint.Finding{Tool: "staticcheck", File: "lib/a.go", Line: 8, Rule: "SA4017", Message: "no side effects"}, "lib/a.go:8: staticcheck SA4017: no side effects"},
		{lint.Finding{Tool: "vet", File: "lib/a.go", Line: 3, Message: "bad format"}, "lib/a.go:3: vet: bad format"},
		{lint.Finding{Tool: "terraform", File: "terraform/talos", Rule: "validate", Message: "init failed"}, "terraform/talos: terraform validate: init failed"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.f.String())
	}
}

// fake returns a step that answers res and err.
func fake(name string, res lint.Result, err error) lint.Step {
	return lint.Step{Name: name, Run: func(context.Context, *lint.Env) (lint.Result, error) { return res, err }}
}

// TestRunRunsEveryStepAndNamesTheFailedOnes: a step that finds problems
// or cannot run does not stop the next; each finding is printed on its
// own line, the summary has a row per step, and the error names the
// failed steps.
func TestRunRunsEveryStepAndNamesTheFailedOnes(t *testing.T) {
	bad := lint.Finding{Tool: "shellcheck", File: "a.sh", Line: 4, Rule: "SC2086", Message: "Double quote to prevent globbing"}
	ran := 0
	counting := func(s lint.Step) lint.Step {
		run := s.Run
		s.Run = func(ctx context.Context, env *lint.Env) (lint.Result, error) { ran++; return run(ctx, env) }
		return s
	}
	broken := errors.New("shellcheck is not on PATH")
	steps := []lint.Step{
		counting(fake("gofmt", lint.Result{Files: 10}, nil)),
		counting(fake("shellcheck", lint.Result{Files: 2, Findings: []lint.Finding{bad}, Exit: 1}, nil)),
		counting(fake("yamllint", lint.Result{}, broken)),
		counting(fake("actionlint", lint.Result{Note: "no workflow"}, nil)),
	}
	var out bytes.Buffer
	err := lint.Run(context.Background(), &lint.Env{Out: &out}, steps)

	require.Equal(t, 4, ran)
	var failed *lint.FailedError
	require.ErrorAs(t, err, &failed)
	require.Equal(t, []string{"shellcheck", "yamllint"}, failed.Steps())
	require.ErrorIs(t, err, broken)
	require.ErrorContains(t, err, "shellcheck found 1 problem(s)")
	require.Contains(t, out.String(), "a.sh:4: shellcheck SC2086: Double quote to prevent globbing\n")
	require.Regexp(t, `STEP\s+FILES\s+FINDINGS\s+RESULT\s+TIME\n`, out.String())
	require.NotContains(t, out.String(), "FIXED")
	require.Regexp(t, `gofmt\s+10\s+0\s+ok\s`, out.String())
	require.Regexp(t, `shellcheck\s+2\s+1\s+FAIL\s`, out.String())
	require.Regexp(t, `yamllint\s+0\s+0\s+ERROR\s`, out.String())
	require.Regexp(t, `actionlint\s+0\s+0\s+ok \(no workflow\)\s`, out.String())
}

// TestRunRequiresFiles: over the whole repository (RequireFiles) a step
// that checked no file fails, unless its Note says why; without it (the
// staged files) checking none is fine.
func TestRunRequiresFiles(t *testing.T) {
	steps := []lint.Step{
		fake("gofmt", lint.Result{Files: 10}, nil),
		fake("shellcheck", lint.Result{}, nil),
		fake("actionlint", lint.Result{Note: "no workflow"}, nil),
	}
	var out bytes.Buffer
	err := lint.Run(t.Context(), &lint.Env{Out: &out, RequireFiles: true}, steps)
	var failed *lint.FailedError
	require.ErrorAs(t, err, &failed)
	require.Equal(t, []string{"shellcheck"}, failed.Steps())
	require.ErrorContains(t, err, "checked no file")
	require.Contains(t, out.String(), "shellcheck: checked no file: the repository has none of the files this step checks")
	require.Regexp(t, `shellcheck\s+0\s+0\s+FAIL\s`, out.String())
	require.Regexp(t, `actionlint\s+0\s+0\s+ok \(no workflow\)\s`, out.String())

	require.NoError(t, lint.Run(t.Context(), &lint.Env{Out: io.Discard}, steps), "without RequireFiles no file is fine")
}

func TestRunShowsWhatItFixed(t *testing.T) {
	var out bytes.Buffer
	err := lint.Run(context.Background(), &lint.Env{Out: &out, Fix: true},
		[]lint.Step{fake("gofmt", lint.Result{Files: 3, Fixed: []string{"a.go", "b.go"}}, nil)})
	require.NoError(t, err)
	require.Regexp(t, `STEP\s+FILES\s+FINDINGS\s+RESULT\s+TIME\s+FIXED\n`, out.String())
	require.Regexp(t, `gofmt\s+3\s+0\s+ok\s+\S+\s+2\n`, out.String())
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := lint.Run(ctx, &lint.Env{}, []lint.Step{{Name: "gofmt", Run: func(context.Context, *lint.Env) (lint.Result, error) {
		ran = true
		return lint.Result{}, nil
	}}})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ran)
}

func TestSelect(t *testing.T) {
	steps := []lint.Step{fake("gofmt", lint.Result{}, nil), fake("vet", lint.Result{}, nil), fake("yamllint", lint.Result{}, nil)}
	names := func(ss []lint.Step) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return out
	}
	got, err := lint.Select(steps, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"gofmt", "vet", "yamllint"}, names(got))
	got, err = lint.Select(steps, []string{"yamllint", "gofmt"})
	require.NoError(t, err)
	require.Equal(t, []string{"gofmt", "yamllint"}, names(got), "in the steps' order")
	_, err = lint.Select(steps, []string{"gofmt", "golint"})
	require.ErrorIs(t, err, lint.ErrUnknownStep)
	require.ErrorContains(t, err, `"golint"; the steps are gofmt, vet, yamllint`)
}

// TestStepsAreInTheContractsOrder: lint-core's steps, in order, each once.
func TestStepsAreInTheContractsOrder(t *testing.T) {
	var names []string
	for _, s := range lint.Steps() {
		names = append(names, s.Name)
	}
	want := []string{"gofmt", "vet", "staticcheck", "shellcheck", "terraform", "packer", "ansible-lint", "yamllint", "actionlint", "trivy", "kubeconform", "docs", "versions"}
	var mine []string
	for _, n := range names {
		for _, w := range want {
			if n == w {
				mine = append(mine, n)
			}
		}
	}
	require.Equal(t, want, mine)
}
