package kubetest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/kubetest"
)

// TestChartsDir finds shared/charts in a folder or above it, and the
// folder INFRA_TEST_CHARTS names before that; a variable naming a folder
// without index.yaml finds nothing.
func TestChartsDir(t *testing.T) {
	repoWith := func(t *testing.T) string {
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "shared", "charts"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "shared", "charts", "index.yaml"), []byte("apiVersion: v1\n"), 0o644))
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "wt", "clone"), 0o755))
		return dir
	}
	mirror := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(mirror, "index.yaml"), []byte("apiVersion: v1\n"), 0o644))
	tests := []struct {
		name   string
		env    string
		shared bool
		want   func(root string) string
	}{
		{"shared/charts above", "", true, func(root string) string { return filepath.Join(root, "shared", "charts") }},
		{"nothing", "", false, nil},
		{"the variable first", mirror, true, func(string) string { return mirror }},
		{"the variable alone", mirror, false, func(string) string { return mirror }},
		{"a variable naming no repository", t.TempDir(), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(kubetest.EnvCharts, tt.env)
			root := t.TempDir()
			if tt.shared {
				root = repoWith(t)
			}
			got, ok := kubetest.ChartsDir(filepath.Join(root, "wt", "clone"))
			if tt.want == nil {
				require.False(t, ok)
				require.Empty(t, got)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want(root), got)
		})
	}
}
