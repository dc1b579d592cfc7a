package testsuite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
)

// TestNPMToolsTakeTheVersionFromTheInventory: renovate-config-validator is
// installed at tools.renovate; an inventory without it is refused with
// ErrToolVersion naming the field.
func TestNPMToolsTakeTheVersionFromTheInventory(t *testing.T) {
	tools, err := testsuite.NPMTools(homelab)
	require.NoError(t, err)
	require.Len(t, tools, 1)
	require.Equal(t, "renovate-config-validator", tools[0].Command)
	require.Equal(t, "renovate", tools[0].Package)
	require.Regexp(t, `^\d+\.\d+\.\d+$`, tools[0].Version)

	dir := t.TempDir()
	file := filepath.Join(dir, "homelab.yaml")
	raw, err := os.ReadFile(homelab)
	require.NoError(t, err)
	data := string(raw)
	i := strings.Index(data, "  renovate: ")
	require.Positive(t, i)
	writeFile(t, file, data[:i])
	_, err = testsuite.NPMTools(file)
	require.ErrorIs(t, err, testsuite.ErrToolVersion)
	require.ErrorContains(t, err, "tools.renovate is missing")
}
