package lint_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/lint"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/inventory"
)

// repoRoot is the repository's root; homelab its inventory, which pins
// the tools' versions.
var (
	repoRoot = filepath.Join("..", "..")
	homelab  = filepath.Join(repoRoot, inventory.DefaultFile)
)

// env is the environment of a step over root, with the tool cache's
// tools.
func env(t *testing.T, root string) *lint.Env {
	t.Helper()
	tools, err := lint.LookupTools(homelab)
	require.NoError(t, err)
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	inv, err := filepath.Abs(homelab)
	require.NoError(t, err)
	return &lint.Env{Root: abs, Tools: tools, Inventory: inv, Out: &bytes.Buffer{}}
}

// runStep runs step in e; a missing tool skips the test outside CI and
// fails it in CI.
func runStep(t *testing.T, step lint.Step, e *lint.Env) lint.Result {
	t.Helper()
	res, err := step.Run(context.Background(), e)
	if errors.Is(err, lint.ErrToolMissing) {
		if testtool.InCI() {
			t.Fatalf("%s: %v; in CI it is a failure, not a skip (go run mage.go test builds it)", step.Name, err)
		}
		t.Skipf("%s: %v (go run mage.go test builds it)", step.Name, err)
	}
	require.NoError(t, err, "%s could not run", step.Name)
	return res
}

// render lists findings one a line, for a failure message.
func render(fs []lint.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// TestEachToolIsLive feeds each tool its known-bad file under
// testdata/bad/<step>/ and asserts the finding (file, line, rule) and
// that the tool exited with a non-zero status.
func TestEachToolIsLive(t *testing.T) {
	tests := []struct {
		step lint.Step
		want lint.Finding
		// inProcess: gofmt runs in this process, no exit status.
		inProcess bool
	}{
		{step: lint.Gofmt(), want: lint.Finding{Tool: "gofmt", File: "bad.go", Line: 3}, inProcess: true},
		{step: lint.Vet(), want: lint.Finding{Tool: "vet", File: "bad.go", Line: 8}},
		{step: lint.Staticcheck(), want: lint.Finding{Tool: "staticcheck", File: "bad.go", Line: 8, Rule: "SA4017"}},
		{step: lint.Shellcheck(), want: lint.Finding{Tool: "shellcheck", File: "bad.sh", Line: 4, Rule: "SC2086"}},
		{step: lint.Terraform(), want: lint.Finding{Tool: "terraform", File: "terraform/stack/main.tf", Line: 6, Rule: "fmt"}},
		{step: lint.Packer(), want: lint.Finding{Tool: "packer", File: "packer/demo/demo.pkr.hcl", Line: 3, Rule: "fmt"}},
		{step: lint.AnsibleLint(), want: lint.Finding{Tool: "ansible-lint", File: "ansible/playbooks/bad.yml", Line: 5, Rule: "fqcn[action-core]"}},
		{step: lint.Yamllint(), want: lint.Finding{Tool: "yamllint", File: "bad.yaml", Line: 3, Rule: "key-duplicates"}},
		{step: lint.Actionlint(), want: lint.Finding{Tool: "actionlint", File: ".forgejo/workflows/ci.yaml", Line: 6, Rule: "expression"}},
	}
	for _, tt := range tests {
		t.Run(tt.step.Name, func(t *testing.T) {
			res := runStep(t, tt.step, env(t, filepath.Join("testdata", "bad", tt.step.Name)))
			require.Positive(t, res.Files)
			var got []lint.Finding
			for _, f := range res.Findings {
				require.NotEmpty(t, f.Message)
				f.Message = ""
				got = append(got, f)
			}
			require.Contains(t, got, tt.want, "findings:\n%s", render(res.Findings))
			if !tt.inProcess {
				require.NotZero(t, res.Exit, "%s exited with status 0 on a bad file", tt.step.Name)
			}
		})
	}
}

// TestTheRepositoryIsClean runs every step over the repository: no
// finding. The manifest steps, trivy and kubeconform, run in TestManifests,
// which renders the add-on charts once from the offline chart repository
// for both.
func TestTheRepositoryIsClean(t *testing.T) {
	for _, step := range lint.Steps() {
		if step.Name == "trivy" || step.Name == "kubeconform" {
			continue
		}
		t.Run(step.Name, func(t *testing.T) {
			res := runStep(t, step, env(t, repoRoot))
			require.Empty(t, res.Findings, "%s found problems in the repository:\n%s", step.Name, render(res.Findings))
			require.Positive(t, res.Files, "%s checked no file", step.Name)
		})
	}
}

// gitRepo makes a git repository in a temporary directory with files.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	testtool.Require(t, "git")
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	git(t, root, "init", "-q")
	return root
}

func git(t *testing.T, root string, args ...string) {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", root}, args...)...).CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
}

// TestGofmtFixRewrites: with Fix the step rewrites what gofmt would
// change, reports it as fixed, not as a finding, and leaves fixtures
// (testdata) and good files alone.
func TestGofmtFixRewrites(t *testing.T) {
	root := gitRepo(t, map[string]string{
		"ok.go":                "package a\n\nfunc F() {}\n",
		"lib/bad.go":           "package a\nfunc   G( ) {}\n",
		"lib/testdata/x.go":    "package  x\n",
		"lib/broken/broken.go": "package a\nfunc {\n",
	})
	e := &lint.Env{Root: root}
	res, err := lint.Gofmt().Run(context.Background(), e)
	require.NoError(t, err)
	require.Equal(t, 3, res.Files)
	require.Equal(t, []lint.Finding{
		{Tool: "gofmt", File: "lib/bad.go", Line: 2, Message: "not formatted as gofmt formats it (-fix rewrites it)"},
		{Tool: "gofmt", File: "lib/broken/broken.go", Line: 2, Rule: "syntax", Message: "expected 'IDENT', found '{'"},
	}, res.Findings)

	e.Fix = true
	res, err = lint.Gofmt().Run(context.Background(), e)
	require.NoError(t, err)
	require.Equal(t, []string{"lib/bad.go"}, res.Fixed)
	require.Len(t, res.Findings, 1, "a syntax error is no formatting to fix")
	got, err := os.ReadFile(filepath.Join(root, "lib", "bad.go"))
	require.NoError(t, err)
	require.Equal(t, "package a\n\nfunc G() {}\n", string(got))
	fixture, err := os.ReadFile(filepath.Join(root, "lib", "testdata", "x.go"))
	require.NoError(t, err)
	require.Equal(t, "package  x\n", string(fixture))
}

// TestStagedFilesLimitTheSteps: with Env.Files a step checks only those
// files; a step with none of its files says so and checks nothing.
func TestStagedFilesLimitTheSteps(t *testing.T) {
	root := gitRepo(t, map[string]string{
		"a.go": "package a\nfunc   A( ) {}\n",
		"b.go": "package a\nfunc   B( ) {}\n",
	})
	git(t, root, "add", "a.go")
	staged, err := lint.StagedFiles(context.Background(), root)
	require.NoError(t, err)
	require.Equal(t, []string{"a.go"}, staged)

	e := &lint.Env{Root: root, Files: staged}
	res, err := lint.Gofmt().Run(context.Background(), e)
	require.NoError(t, err)
	require.Equal(t, 1, res.Files)
	require.Len(t, res.Findings, 1)
	require.Equal(t, "a.go", res.Findings[0].File)

	for _, step := range []lint.Step{lint.Yamllint(), lint.Shellcheck(), lint.Actionlint()} {
		res, err = step.Run(context.Background(), e)
		require.NoError(t, err, step.Name)
		require.Zero(t, res.Files, step.Name)
		require.Equal(t, lint.NoneStaged, res.Note, step.Name)
	}
}

func TestIsShellScript(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          bool
	}{
		{"run", "#!/usr/bin/env bash\nset -e\n", true},
		{"plain", "#!/bin/sh\n", true},
		{"env-flags", "#!/usr/bin/env -S bash -e\n", true},
		{"x.sh", "echo hi\n", true},
		{"py", "#!/usr/bin/env python3\n", false},
		{"fish", "#!/usr/bin/fish\n", false},
		{"notes", "sh is a shell\n", false},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
		require.Equal(t, tt.want, lint.IsShellScript(path), tt.name)
	}
}

// copyFixture copies testdata/bad/<name> into a new git repository.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	files := map[string]string{}
	src := filepath.Join("testdata", "bad", name)
	require.NoError(t, filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		files[rel] = string(data)
		return nil
	}))
	return gitRepo(t, files)
}

// TestFixRewritesTerraformAndPacker: with Fix, the terraform and packer
// steps run terraform fmt and packer fmt first: the files are named as
// fixed and fmt finds nothing afterwards.
func TestFixRewritesTerraformAndPacker(t *testing.T) {
	tests := []struct {
		step lint.Step
		file string
	}{
		{lint.Terraform(), "terraform/stack/main.tf"},
		{lint.Packer(), "packer/demo/demo.pkr.hcl"},
	}
	for _, tt := range tests {
		t.Run(tt.step.Name, func(t *testing.T) {
			e := env(t, copyFixture(t, tt.step.Name))
			e.Fix = true
			res := runStep(t, tt.step, e)
			require.Equal(t, []string{tt.file}, res.Fixed)
			for _, f := range res.Findings {
				require.NotEqual(t, "fmt", f.Rule, "%s", f)
			}
		})
	}
}
