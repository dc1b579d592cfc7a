package testtool_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
)

func TestRequireFindsAToolOnPath(t *testing.T) {
	require.NotEmpty(t, testtool.Require(t, "go"))
}

func TestInCI(t *testing.T) {
	t.Setenv("CI", "true")
	require.True(t, testtool.InCI())
	t.Setenv("CI", "")
	require.False(t, testtool.InCI())
}

func TestRequireGoToolFindsACachedTool(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(toolchain.EnvCache, cache)
	tool := toolchain.GoTool{Command: "demo", Version: "v1.0.0"}
	require.NoError(t, os.MkdirAll(filepath.Dir(tool.Path(cache)), 0o755))
	require.NoError(t, os.WriteFile(tool.Path(cache), []byte("bin"), 0o755))
	require.Equal(t, filepath.Join(cache, "demo-v1.0.0", "demo"), testtool.RequireGoTool(t, tool))
}
