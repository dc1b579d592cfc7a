package toolchain_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
)

// packerTools are Packer and its proxmox plugin as tools of the cache.
func packerTools() (packer, plugin toolchain.GoTool) {
	packer = toolchain.GoTool{Command: "packer", Module: "github.com/hashicorp/packer", Package: "github.com/hashicorp/packer", Version: "v1.12.0"}
	plugin = toolchain.GoTool{
		Command: "packer-plugin-proxmox", Module: "github.com/hashicorp/packer-plugin-proxmox",
		Package: "github.com/hashicorp/packer-plugin-proxmox", Version: "v1.1.0",
		PackerPlugin: "github.com/hashicorp/proxmox",
	}
	return packer, plugin
}

// installedPlugin writes what `packer plugins install` leaves in dir for
// the plugin: the binary named with its version and API version, and its
// checksum file.
func installedPlugin(t *testing.T, dir string, sum bool) string {
	t.Helper()
	base := filepath.Join(dir, "github.com", "hashicorp", "proxmox")
	require.NoError(t, os.MkdirAll(base, 0o755))
	bin := filepath.Join(base, "packer-plugin-proxmox_v1.1.0_x5.0_"+runtime.GOOS+"_"+runtime.GOARCH)
	require.NoError(t, os.WriteFile(bin, []byte("plugin"), 0o755))
	if sum {
		require.NoError(t, os.WriteFile(bin+"_SHA256SUM", []byte("abc"), 0o644))
	}
	return bin
}

func TestPackerPluginDirIsInTheCache(t *testing.T) {
	require.Equal(t, "/c/packer-plugins", toolchain.PackerPluginDir("/c"))
}

func TestEnsurePackerPlugins(t *testing.T) {
	packer, plugin := packerTools()
	tests := []struct {
		name      string
		prepare   func(t *testing.T, dir string)
		install   func(t *testing.T, dir string) error
		plugins   []toolchain.GoTool
		wantCalls int
		wantErr   string
	}{
		{
			name:      "not installed: installed once from the cached binary",
			install:   func(t *testing.T, dir string) error { installedPlugin(t, dir, true); return nil },
			wantCalls: 1,
		},
		{
			name:    "installed: nothing runs (idempotent)",
			prepare: func(t *testing.T, dir string) { installedPlugin(t, dir, true) },
		},
		{
			name:      "half installed (no checksum file): installed again",
			prepare:   func(t *testing.T, dir string) { installedPlugin(t, dir, false) },
			install:   func(t *testing.T, dir string) error { installedPlugin(t, dir, true); return nil },
			wantCalls: 1,
		},
		{
			name:      "install fails: typed error naming the command to retry",
			install:   func(*testing.T, string) error { return errors.New("exit status 1") },
			wantCalls: 1,
			wantErr:   "install Packer plugin packer-plugin-proxmox@v1.1.0 (github.com/hashicorp/proxmox): exit status 1; retry by hand with: PACKER_PLUGIN_PATH=",
		},
		{
			name:      "install leaves no plugin: error",
			install:   func(*testing.T, string) error { return nil },
			wantCalls: 1,
			wantErr:   "packer plugins install left no packer-plugin-proxmox_v1.1.0_x*_" + runtime.GOOS + "_" + runtime.GOARCH,
		},
		{
			name:    "a tool that is no Packer plugin is refused",
			plugins: []toolchain.GoTool{packer},
			wantErr: "packer@v1.12.0 is not a Packer plugin (its PackerPlugin is empty)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			dir := toolchain.PackerPluginDir(cache)
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			plugins := tt.plugins
			if plugins == nil {
				plugins = []toolchain.GoTool{plugin}
			}
			calls := 0
			err := toolchain.EnsurePackerPlugins(context.Background(), packer, plugins,
				toolchain.WithCacheDir(cache),
				toolchain.WithPackerPluginInstaller(func(_ context.Context, req toolchain.PluginInstall) error {
					calls++
					require.Equal(t, packer.Path(cache), req.Packer)
					require.Equal(t, plugin.Path(cache), req.Binary)
					require.Equal(t, dir, req.Dir)
					require.Equal(t, "github.com/hashicorp/proxmox", req.Address)
					return tt.install(t, dir)
				}))
			require.Equal(t, tt.wantCalls, calls)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				if tt.plugins == nil {
					var perr *toolchain.PluginError
					require.ErrorAs(t, err, &perr)
				}
				return
			}
			require.NoError(t, err)
			path, ok := toolchain.InstalledPackerPlugin(dir, plugin)
			require.True(t, ok)
			require.FileExists(t, path)
		})
	}
}

func TestPluginInstallArgs(t *testing.T) {
	req := toolchain.PluginInstall{Packer: "/c/packer-v1.12.0/packer", Binary: "/c/p/packer-plugin-proxmox", Dir: "/c/packer-plugins", Address: "github.com/hashicorp/proxmox"}
	require.Equal(t, []string{"plugins", "install", "--path", "/c/p/packer-plugin-proxmox", "github.com/hashicorp/proxmox"}, req.Args())
	require.Equal(t, []string{"PACKER_PLUGIN_PATH=/c/packer-plugins", "CHECKPOINT_DISABLE=1"}, req.Env())
}

// TestEnsurePackerPluginsWithTheRealPacker installs the plugin built into
// the tool cache with the real packer, into a copy of the cache, and asks
// packer which plugins it has: the one installed, at its version.
func TestEnsurePackerPluginsWithTheRealPacker(t *testing.T) {
	homelab := filepath.Join("..", "..", inventory.DefaultFile)
	packer, err := testsuite.GoTool(homelab, "packer")
	require.NoError(t, err)
	plugin, err := testsuite.GoTool(homelab, "packer-plugin-proxmox")
	require.NoError(t, err)
	real, err := toolchain.CacheDir()
	require.NoError(t, err)
	testtool.RequireGoTool(t, packer)
	testtool.RequireGoTool(t, plugin)
	cache := t.TempDir()
	for _, tool := range []toolchain.GoTool{packer, plugin} {
		require.NoError(t, os.Symlink(tool.Dir(real), tool.Dir(cache)))
	}

	for range 2 { // the second run finds it installed
		require.NoError(t, toolchain.EnsurePackerPlugins(context.Background(), packer, []toolchain.GoTool{plugin}, toolchain.WithCacheDir(cache)))
	}

	cmd := exec.Command(packer.Path(cache), "plugins", "installed")
	cmd.Env = append(os.Environ(), toolchain.EnvPackerPluginPath+"="+toolchain.PackerPluginDir(cache), "CHECKPOINT_DISABLE=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	path, ok := toolchain.InstalledPackerPlugin(toolchain.PackerPluginDir(cache), plugin)
	require.True(t, ok)
	require.Equal(t, path, strings.TrimSpace(string(out)), "packer finds the plugin where it was installed")
	require.Contains(t, path, "packer-plugin-proxmox_v1.1.0_x5.0_")
}
