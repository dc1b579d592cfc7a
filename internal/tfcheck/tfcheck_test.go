package tfcheck_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/tfcheck"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
)

// repoRoot is the repository's root.
var repoRoot = filepath.Join("..", "..")

// ignoreFixtures are the ignore files of internal/trivyscan's tests.
var ignoreFixtures = filepath.Join("..", "trivyscan", "testdata")

// requireTools returns the real tools (tfcheck.LookupTools), skipping the
// test when one is missing outside CI and failing it in CI.
func requireTools(t *testing.T) tfcheck.Tools {
	t.Helper()
	tools, err := tfcheck.LookupTools(filepath.Join(repoRoot, inventory.DefaultFile))
	if errors.Is(err, tfcheck.ErrToolMissing) {
		if testtool.InCI() {
			t.Fatalf("%v; in CI it is a failure, not a skip (go run mage.go test builds them)", err)
		}
		t.Skipf("%v (go run mage.go test builds them)", err)
	}
	require.NoError(t, err)
	return tools
}

// render lists findings one a line, for a failure message.
func render(findings []tfcheck.Finding) string {
	lines := make([]string, len(findings))
	for i, f := range findings {
		lines[i] = f.String()
	}
	return strings.Join(lines, "\n")
}

// TestRepositoryTerraformIsClean runs every check over every Terraform
// directory of the repository: fmt, validate, tflint with .tflint.hcl and
// trivy with .trivyignore.yaml find nothing.
func TestRepositoryTerraformIsClean(t *testing.T) {
	tools := requireTools(t)
	dirs, err := tfcheck.Dirs(repoRoot)
	require.NoError(t, err)
	require.Contains(t, dirs, filepath.Join("terraform", "modules", "proxmox-vm"))
	findings, err := tfcheck.New(repoRoot, tools).Run(context.Background())
	require.NoError(t, err)
	require.Empty(t, findings, "findings in the Terraform code (directories: %s):\n%s", strings.Join(dirs, ", "), render(findings))
	require.NoError(t, tfcheck.Check(context.Background(), repoRoot, tools))
}

// TestDirsFindsEveryTerraformDirectory: every directory below terraform/
// holding a *.tf file, however deep, and none that holds none or is hidden.
func TestDirsFindsEveryTerraformDirectory(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{
		"terraform/talos/main.tf",
		"terraform/talos/README.md",
		"terraform/traditional-vms/versions.tf",
		"terraform/modules/proxmox-vm/main.tf",
		"terraform/modules/proxmox-vm/variables.tf",
		"terraform/modules/README.md",
		"terraform/talos/.terraform/modules/vm/main.tf",
		"terraform/docs/notes.tf.md",
		"elsewhere/main.tf",
	} {
		path := filepath.Join(root, filepath.FromSlash(f))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, nil, 0o644))
	}
	dirs, err := tfcheck.Dirs(root)
	require.NoError(t, err)
	require.Equal(t, []string{
		filepath.Join("terraform", "modules", "proxmox-vm"),
		filepath.Join("terraform", "talos"),
		filepath.Join("terraform", "traditional-vms"),
	}, dirs)

	_, err = tfcheck.Dirs(filepath.Join(root, "missing"))
	require.ErrorContains(t, err, "find the Terraform directories under")
}

// TestEachCheckReportsFileLineAndRule runs each check on a fixture with one
// kind of problem: the finding names the file, the line and the rule.
func TestEachCheckReportsFileLineAndRule(t *testing.T) {
	tools := requireTools(t)
	bad := filepath.Join("testdata", "bad")
	c := tfcheck.New(bad, tools, tfcheck.WithTFLintConfig(filepath.Join(repoRoot, tfcheck.TFLintConfig)),
		tfcheck.WithTrivyIgnore(filepath.Join(ignoreFixtures, "empty.yaml")))
	dir := func(name string) string { return filepath.Join("terraform", name) }
	tests := []struct {
		name  string
		check func(context.Context, string) ([]tfcheck.Finding, error)
		dir   string
		want  tfcheck.Finding // Message: a part of it
	}{
		{name: "fmt", check: c.Fmt, dir: dir("unformatted"),
			want: tfcheck.Finding{Check: tfcheck.CheckFmt, File: filepath.Join(dir("unformatted"), "main.tf"), Line: 7, Severity: "error", Message: `+  tags = ["a"]`}},
		{name: "validate", check: c.Validate, dir: dir("invalid"),
			want: tfcheck.Finding{Check: tfcheck.CheckValidate, File: filepath.Join(dir("invalid"), "main.tf"), Line: 7, Severity: "error", Message: "Reference to undeclared input variable"}},
		{name: "validate: init fails offline for a provider outside the mirror", check: c.Validate, dir: dir("insecure"),
			want: tfcheck.Finding{Check: tfcheck.CheckValidate, File: dir("insecure"), Severity: "error", Message: "terraform init -backend=false failed"}},
		{name: "tflint", check: c.TFLint, dir: dir("unlinted"),
			want: tfcheck.Finding{Check: tfcheck.CheckTFLint, File: filepath.Join(dir("unlinted"), "main.tf"), Line: 10, Rule: "terraform_unused_declarations", Severity: "warning", Message: `variable "unused" is declared but not used`}},
		{name: "trivy", check: c.Trivy, dir: dir("insecure"),
			want: tfcheck.Finding{Check: tfcheck.CheckTrivy, File: filepath.Join(dir("insecure"), "main.tf"), Line: 8, Rule: "AWS-0107", Severity: "HIGH", Message: "aws_security_group_rule.open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := tt.check(context.Background(), tt.dir)
			require.NoError(t, err)
			for _, f := range findings {
				if f.Check == tt.want.Check && f.File == tt.want.File && f.Line == tt.want.Line && f.Rule == tt.want.Rule && f.Severity == tt.want.Severity &&
					strings.Contains(f.Message, tt.want.Message) {
					return
				}
			}
			t.Fatalf("no finding like %s among:\n%s", tt.want, render(findings))
		})
	}
}

// TestFmtReportsOneFindingPerFile: a file without a final newline, whose
// diff ends in "\ No newline at end of file", is one finding, at the line
// that changes.
func TestFmtReportsOneFindingPerFile(t *testing.T) {
	tools := requireTools(t)
	dir := filepath.Join("terraform", "nonewline")
	findings, err := tfcheck.New(filepath.Join("testdata", "bad"), tools).Fmt(context.Background(), dir)
	require.NoError(t, err)
	require.Len(t, findings, 1, render(findings))
	require.Equal(t, filepath.Join(dir, "main.tf"), findings[0].File)
	require.Equal(t, 6, findings[0].Line)
	require.Contains(t, findings[0].Message, `\ No newline at end of file`)
}

// TestCheckListsEveryFinding runs every check over the fixture tree: the
// error lists each finding as file:line: check rule.
func TestCheckListsEveryFinding(t *testing.T) {
	tools := requireTools(t)
	err := tfcheck.Check(context.Background(), filepath.Join("testdata", "bad"), tools,
		tfcheck.WithTFLintConfig(filepath.Join(repoRoot, tfcheck.TFLintConfig)),
		tfcheck.WithTrivyIgnore(filepath.Join(ignoreFixtures, "empty.yaml")))
	var findings *tfcheck.FindingsError
	require.ErrorAs(t, err, &findings)
	for _, want := range []string{
		filepath.Join("terraform", "unformatted", "main.tf") + ":7: fmt (error): not formatted",
		filepath.Join("terraform", "invalid", "main.tf") + ":7: validate (error): Reference to undeclared input variable",
		filepath.Join("terraform", "unlinted", "main.tf") + ":10: tflint terraform_unused_declarations (warning)",
		filepath.Join("terraform", "insecure", "main.tf") + ":8: trivy AWS-0107 (HIGH)",
	} {
		require.Contains(t, err.Error(), "\n  "+want)
	}
}

// TestAcceptedFindingsAreIgnored: trivy leaves out a finding the ignore
// file accepts, and refuses to run with an entry that gives no reason.
func TestAcceptedFindingsAreIgnored(t *testing.T) {
	tools := requireTools(t)
	// The ignore file's paths are relative to the root (terraform/…).
	accepted, err := tfcheck.New(filepath.Join("testdata", "bad"), tools,
		tfcheck.WithTrivyIgnore(filepath.Join(ignoreFixtures, "good.yaml"))).Trivy(context.Background(), tfcheck.Dir)
	require.NoError(t, err)
	require.Empty(t, accepted, "the ignore file accepts AWS-0107 in insecure/main.tf:\n%s", render(accepted))

	_, err = tfcheck.New(filepath.Join("testdata", "bad"), tools,
		tfcheck.WithTrivyIgnore(filepath.Join(ignoreFixtures, "no-statement.yaml"))).Trivy(context.Background(), tfcheck.Dir)
	require.ErrorContains(t, err, "has no statement")
}

// TestACleanTreePasses: a stack calling a local module, formatted,
// valid, documented: no finding from any check.
func TestACleanTreePasses(t *testing.T) {
	tools := requireTools(t)
	clean := filepath.Join("testdata", "clean")
	findings, err := tfcheck.New(clean, tools, tfcheck.WithTFLintConfig(filepath.Join(repoRoot, tfcheck.TFLintConfig))).Run(context.Background())
	require.NoError(t, err)
	require.Empty(t, findings, render(findings))
}

func TestFindingString(t *testing.T) {
	require.Equal(t, "terraform/talos/main.tf:12: tflint terraform_unused_declarations (warning): local.x is declared but not used",
		tfcheck.Finding{Check: "tflint", File: "terraform/talos/main.tf", Line: 12, Rule: "terraform_unused_declarations", Severity: "warning",
			Message: "local.x is declared but not used"}.String())
	require.Equal(t, "terraform/talos: validate: terraform init failed",
		tfcheck.Finding{Check: "validate", File: "terraform/talos", Message: "terraform init failed"}.String())
}

// TestLookupToolsNamesWhatIsMissing: in an empty tool cache every built
// tool is missing, named with its version and place; once each binary is
// there the tools are found at those places.
func TestLookupToolsNamesWhatIsMissing(t *testing.T) {
	testtool.Require(t, "terraform")
	cache := t.TempDir()
	t.Setenv(toolchain.EnvCache, cache)
	homelab := filepath.Join(repoRoot, inventory.DefaultFile)
	_, err := tfcheck.LookupTools(homelab)
	require.ErrorIs(t, err, tfcheck.ErrToolMissing)
	for _, want := range []string{"tflint@v0.64.0 (not built at " + cache, "trivy@v0.74.0", "terraform-provider-proxmox@v0.80.0"} {
		require.ErrorContains(t, err, want)
	}

	for _, command := range []string{"tflint", "trivy", "terraform-provider-proxmox"} {
		tool, err := testsuite.GoTool(homelab, command)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(tool.Path(cache)), 0o755))
		require.NoError(t, os.WriteFile(tool.Path(cache), nil, 0o755))
	}
	tools, err := tfcheck.LookupTools(homelab)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(cache, "tflint-v0.64.0", "tflint"), tools.TFLint)
	require.Equal(t, filepath.Join(cache, "trivy-v0.74.0", "trivy"), tools.Trivy)
	require.Equal(t, cache, tools.Cache)
	require.Len(t, tools.Providers, 1)
}

// TestLintRunsEveryCheckButTrivy: Lint (the lint target's terraform step)
// needs no trivy and reports fmt, validate and tflint, each finding with
// its tool's non-zero exit status; trivy runs on its own.
func TestLintRunsEveryCheckButTrivy(t *testing.T) {
	requireTools(t)
	tools, err := tfcheck.LookupTools(filepath.Join(repoRoot, inventory.DefaultFile), tfcheck.CheckFmt, tfcheck.CheckValidate, tfcheck.CheckTFLint)
	require.NoError(t, err)
	require.Empty(t, tools.Trivy, "trivy is not needed")
	bad := filepath.Join("testdata", "bad")
	dirs, err := tfcheck.Dirs(bad)
	require.NoError(t, err)
	findings, err := tfcheck.New(bad, tools, tfcheck.WithTFLintConfig(filepath.Join(repoRoot, tfcheck.TFLintConfig))).Lint(context.Background(), dirs)
	require.NoError(t, err)
	checks := map[string]bool{}
	for _, f := range findings {
		checks[f.Check] = true
		require.NotZero(t, f.Exit, "%s", f)
	}
	require.Equal(t, map[string]bool{tfcheck.CheckFmt: true, tfcheck.CheckValidate: true, tfcheck.CheckTFLint: true}, checks, render(findings))
}

// TestFmtWriteRewrites: FmtWrite formats the files terraform fmt -check
// refuses and names them; afterwards fmt finds nothing.
func TestFmtWriteRewrites(t *testing.T) {
	tools := requireTools(t)
	root := t.TempDir()
	dir := filepath.Join("terraform", "unformatted")
	src, err := os.ReadFile(filepath.Join("testdata", "bad", dir, "main.tf"))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(root, dir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, dir, "main.tf"), src, 0o644))
	c := tfcheck.New(root, tools)
	fixed, err := c.FmtWrite(context.Background(), dir)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "main.tf")}, fixed)
	findings, err := c.Fmt(context.Background(), dir)
	require.NoError(t, err)
	require.Empty(t, findings, render(findings))
}

// TestLookupToolsForSomeChecks: only the tools of the checks asked for
// are needed: trivy alone needs neither terraform nor tflint nor the
// provider.
func TestLookupToolsForSomeChecks(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(toolchain.EnvCache, cache)
	homelab := filepath.Join(repoRoot, inventory.DefaultFile)
	_, err := tfcheck.LookupTools(homelab, tfcheck.CheckTrivy)
	require.ErrorIs(t, err, tfcheck.ErrToolMissing)
	require.ErrorContains(t, err, "trivy@v0.74.0")
	for _, not := range []string{"tflint", "terraform-provider-proxmox", "terraform (not on PATH)"} {
		require.NotContains(t, err.Error(), not)
	}
	_, err = tfcheck.LookupTools(homelab, tfcheck.CheckTFLint)
	require.ErrorContains(t, err, "tflint@v0.64.0")
	require.NotContains(t, err.Error(), "trivy")
}
