package testtool_test

import (
	"fmt"
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

// recordingTB records how a test would end instead of ending it.
type recordingTB struct {
	testing.TB
	ends []string
}

func (r *recordingTB) Helper()           {}
func (r *recordingTB) Fatal(args ...any) { r.ends = append(r.ends, "fatal") }
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.ends = append(r.ends, "fatal: "+fmt.Sprintf(format, args...))
}
func (r *recordingTB) Skipf(format string, args ...any) {
	r.ends = append(r.ends, "skip: "+fmt.Sprintf(format, args...))
}

// TestRequireNPMTool finds an npm tool in the cache; a missing one skips
// the test on a workstation and fails it in CI.
func TestRequireNPMTool(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(toolchain.EnvCache, cache)
	tool := toolchain.NPMTool{Command: "renovate-config-validator", Package: "renovate", Version: "1.2.3"}

	t.Setenv("CI", "")
	rec := &recordingTB{TB: t}
	require.Empty(t, testtool.RequireNPMTool(rec, tool))
	missing := filepath.Join(cache, "renovate-1.2.3", "node_modules", ".bin", "renovate-config-validator")
	require.Equal(t, []string{"skip: renovate@1.2.3 is not installed at " + missing + " (go run mage.go test installs it)"}, rec.ends)

	t.Setenv("CI", "true")
	rec = &recordingTB{TB: t}
	testtool.RequireNPMTool(rec, tool)
	require.Equal(t, "fatal: renovate@1.2.3 is not installed at "+missing+"; in CI it is a failure, not a skip (go run mage.go test installs it)", rec.ends[0])

	require.NoError(t, os.MkdirAll(filepath.Dir(tool.Path(cache)), 0o755))
	require.NoError(t, os.WriteFile(tool.Path(cache), []byte("#!/bin/sh\n"), 0o755))
	require.Equal(t, missing, testtool.RequireNPMTool(t, tool))
}
