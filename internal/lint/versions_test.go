package lint_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/lint"
)

// TestVersionsStep runs the versions step on a fixture whose doc names a
// Talos version other than its inventory's: one finding with file, line
// and rule; with Files naming another file, none; with Files naming the
// inventory, the whole tracked tree.
func TestVersionsStep(t *testing.T) {
	root := filepath.Join("testdata", "bad", "versions")
	step := lint.Versions()
	require.Equal(t, "versions", step.Name)

	res, err := step.Run(context.Background(), &lint.Env{Root: root, Files: []string{"homelab.yaml", "docs/upgrade.md"}})
	require.NoError(t, err)
	require.Equal(t, 1, res.Files)
	require.Len(t, res.Findings, 1)
	require.Equal(t, "docs/upgrade.md:3: versions prose: Talos v1.11.2 names v1.11.2, but homelab.yaml:3 talos.version is v1.12.7: write v1.12.7 here, or read it from homelab.yaml",
		res.Findings[0].String())

	res, err = step.Run(context.Background(), &lint.Env{Root: root, Files: []string{"docs/other.md"}})
	require.NoError(t, err)
	require.Empty(t, res.Findings, "a file that is not staged is not read")
	require.Zero(t, res.Files)

	// A change of the inventory can make any file disagree: staged, it
	// has the step read every tracked file.
	res, err = step.Run(context.Background(), &lint.Env{Root: root, Files: []string{"homelab.yaml"}})
	require.NoError(t, err)
	require.Len(t, res.Findings, 1)
	require.Equal(t, "docs/upgrade.md", res.Findings[0].File)
}

// TestVersionsStepNeedsInventory: without homelab.yaml the step cannot
// run, which is an error, not a finding.
func TestVersionsStepNeedsInventory(t *testing.T) {
	_, err := lint.Versions().Run(context.Background(), &lint.Env{Root: t.TempDir(), Files: []string{}})
	require.ErrorContains(t, err, "homelab.yaml")
}
