package toolchain_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/toolchain"
)

// TestEnsureNPM installs a missing npm tool into the cache once, leaves a
// cached one alone, repairs a damaged directory, and reports a failed or
// empty install as an *NPMError naming the retry.
func TestEnsureNPM(t *testing.T) {
	tool := toolchain.NPMTool{Command: "renovate-config-validator", Package: "renovate", Version: "1.2.3"}
	install := func(provide bool, calls *[]string) toolchain.NPMInstaller {
		return func(_ context.Context, prefix, pkg string) error {
			*calls = append(*calls, pkg)
			if !provide {
				return nil
			}
			bin := filepath.Join(prefix, "node_modules", ".bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(bin, "renovate-config-validator"), []byte("#!/bin/sh\n"), 0o755)
		}
	}
	for name, tc := range map[string]struct {
		setup   func(cache string)
		install func(calls *[]string) toolchain.NPMInstaller
		calls   []string
		wantErr string
	}{
		"installs": {install: func(c *[]string) toolchain.NPMInstaller { return install(true, c) }, calls: []string{"renovate@1.2.3"}},
		"cached": {
			setup: func(cache string) {
				require.NoError(t, os.MkdirAll(filepath.Dir(tool.Path(cache)), 0o755))
				require.NoError(t, os.WriteFile(tool.Path(cache), nil, 0o755))
			},
			install: func(c *[]string) toolchain.NPMInstaller { return install(true, c) },
		},
		"repairs": {
			setup:   func(cache string) { require.NoError(t, os.MkdirAll(tool.Dir(cache), 0o755)) },
			install: func(c *[]string) toolchain.NPMInstaller { return install(true, c) }, calls: []string{"renovate@1.2.3"},
		},
		"fails": {
			install: func(c *[]string) toolchain.NPMInstaller {
				return func(context.Context, string, string) error {
					*c = append(*c, "x")
					return errors.New("npm exited with status 1")
				}
			},
			calls: []string{"x"}, wantErr: "install renovate@1.2.3: npm exited with status 1; retry by hand with: npm install --prefix <dir> --ignore-scripts renovate@1.2.3",
		},
		"provides nothing": {
			install: func(c *[]string) toolchain.NPMInstaller { return install(false, c) }, calls: []string{"renovate@1.2.3"},
			wantErr: "the package provides no renovate-config-validator",
		},
	} {
		t.Run(name, func(t *testing.T) {
			cache := t.TempDir()
			if tc.setup != nil {
				tc.setup(cache)
			}
			var calls []string
			err := toolchain.EnsureNPM(context.Background(), []toolchain.NPMTool{tool},
				toolchain.WithCacheDir(cache), toolchain.WithNPMInstaller(tc.install(&calls)))
			require.Equal(t, tc.calls, calls)
			if tc.wantErr != "" {
				var npmErr *toolchain.NPMError
				require.ErrorAs(t, err, &npmErr)
				require.ErrorContains(t, err, tc.wantErr)
				_, statErr := os.Stat(tool.Dir(cache))
				require.True(t, os.IsNotExist(statErr), "a failed install leaves nothing behind")
				return
			}
			require.NoError(t, err)
			require.FileExists(t, tool.Path(cache))
		})
	}
	require.Equal(t, "/c/renovate-1.2.3/node_modules/.bin/renovate-config-validator", tool.Path("/c"))
	require.Equal(t, "/c/renovate-1.2.3/node_modules/renovate", tool.PackageDir("/c"))
}
