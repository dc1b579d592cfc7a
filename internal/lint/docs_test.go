package lint_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/lint"
)

// docsRepo copies what the generated docs are made from and of into a
// temporary root: the module READMEs and their .tf files, the targets,
// the inventory's Go source and the two reference pages.
func docsRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	repo := filepath.Join("..", "..")
	for _, pattern := range []string{
		"terraform/modules/*/*.tf", "terraform/modules/*/README.md", "magefiles/*.go", "lib/inventory/*.go",
		"docs/reference/targets.md", "docs/reference/inventory.md",
	} {
		files, err := filepath.Glob(filepath.Join(repo, filepath.FromSlash(pattern)))
		require.NoError(t, err)
		require.NotEmpty(t, files, pattern)
		for _, f := range files {
			rel, err := filepath.Rel(repo, f)
			require.NoError(t, err)
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			require.NoError(t, os.MkdirAll(filepath.Join(root, filepath.Dir(rel)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, rel), data, 0o644))
		}
	}
	return root
}

// dropLine removes the first line of file (under root) that starts with
// prefix and returns its 1-based number.
func dropLine(t *testing.T, root, file, prefix string) int {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(file))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			require.NoError(t, os.WriteFile(path, []byte(strings.Join(append(lines[:i:i], lines[i+1:]...), "")), 0o644))
			return i + 1
		}
	}
	t.Fatalf("%s has no line starting with %q", file, prefix)
	return 0
}

// TestDocsStep reports each drifted file at its first differing line, as
// file:line: docs: message, regenerates them with Fix, and checks nothing
// when the files it is limited to are none of its own.
func TestDocsStep(t *testing.T) {
	root := docsRepo(t)
	step := lint.Docs()
	require.Equal(t, "docs", step.Name)

	res, err := step.Run(context.Background(), &lint.Env{Root: root})
	require.NoError(t, err)
	require.Equal(t, 4, res.Files)
	require.Empty(t, res.Findings, "the repository's docs are up to date")

	targetsLine := dropLine(t, root, "docs/reference/targets.md", "| [`docs`](#docs) |")
	readmeLine := dropLine(t, root, "terraform/modules/proxmox-vm/README.md", "| `vm_id` |")
	res, err = step.Run(context.Background(), &lint.Env{Root: root})
	require.NoError(t, err)
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.String())
	}
	require.ElementsMatch(t, []string{
		"terraform/modules/proxmox-vm/README.md:" + strconv.Itoa(readmeLine) + ": docs: generated section differs; run: go run mage.go docs",
		"docs/reference/targets.md:" + strconv.Itoa(targetsLine) + ": docs: generated section differs; run: go run mage.go docs",
	}, got)

	res, err = step.Run(context.Background(), &lint.Env{Root: root, Files: []string{"README.md", "lib/netx/netx.go"}})
	require.NoError(t, err)
	require.Equal(t, lint.Result{}, res, "none of the staged files is a generated doc or a source")

	res, err = step.Run(context.Background(), &lint.Env{Root: root, Files: []string{"magefiles/docs.go"}})
	require.NoError(t, err)
	require.Len(t, res.Findings, 2, "a staged target file checks every generated doc")

	res, err = step.Run(context.Background(), &lint.Env{Root: root, Fix: true})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"terraform/modules/proxmox-vm/README.md", "docs/reference/targets.md"}, res.Fixed)
	res, err = step.Run(context.Background(), &lint.Env{Root: root})
	require.NoError(t, err)
	require.Empty(t, res.Findings)
}

// TestDocsStepCannotRun is an error, not a finding, when a doc cannot be
// generated: here the targets page lost its markers.
func TestDocsStepCannotRun(t *testing.T) {
	root := docsRepo(t)
	dropLine(t, root, "docs/reference/targets.md", "<!-- END GENERATED -->")
	_, err := lint.Docs().Run(context.Background(), &lint.Env{Root: root})
	require.ErrorContains(t, err, `docs/reference/targets.md: no generated part ""`)
}

// TestDocsStepBadFixture runs the step on a known-bad repository: a module
// README without its output's row, a targets page without a target and an
// inventory reference without a field's row, each a finding at its first
// differing line.
func TestDocsStepBadFixture(t *testing.T) {
	res, err := lint.Docs().Run(context.Background(), &lint.Env{Root: filepath.Join("testdata", "bad", "docs")})
	require.NoError(t, err)
	require.Equal(t, 3, res.Files)
	require.Equal(t, []lint.Finding{
		{Tool: "docs", File: "terraform/modules/vm/README.md", Line: 17, Message: "generated section differs; run: go run mage.go docs"},
		{Tool: "docs", File: "docs/reference/targets.md", Line: 7, Message: "generated section differs; run: go run mage.go docs"},
		{Tool: "docs", File: "docs/reference/inventory.md", Line: 8, Message: "generated section differs; run: go run mage.go docs"},
	}, res.Findings)
	require.Equal(t, "docs/reference/targets.md:7: docs: generated section differs; run: go run mage.go docs", res.Findings[1].String())
}
