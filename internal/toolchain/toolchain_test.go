package toolchain_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/toolchain"
)

// fakeSystem is a PATH and an apt-get that installs packages into it.
type fakeSystem struct {
	onPath   map[string]bool
	provides map[string]string // package → command it installs
	aptFails bool
	commands []string
}

func (f *fakeSystem) lookPath(cmd string) (string, error) {
	if f.onPath[cmd] {
		return "/usr/bin/" + cmd, nil
	}
	return "", exec.ErrNotFound
}

func (f *fakeSystem) run(_ context.Context, name string, args ...string) error {
	f.commands = append(f.commands, name+" "+strings.Join(args, " "))
	if f.aptFails {
		return errors.New("exit status 100")
	}
	if len(args) > 0 && args[0] == "install" {
		for _, pkg := range args[1:] {
			if cmd, ok := f.provides[pkg]; ok {
				f.onPath[cmd] = true
			}
		}
	}
	return nil
}

func TestEnsure(t *testing.T) {
	nix := toolchain.Tool{Command: "nix-instantiate", Debian: "nix-bin"}
	lint := toolchain.Tool{Command: "yamllint", Debian: "yamllint"}
	tests := []struct {
		name     string
		onPath   []string
		provides map[string]string
		root     bool
		aptFails bool
		wantCmds []string
		wantErr  string
	}{
		{
			name:   "all present: nothing runs",
			onPath: []string{"apt-get", "nix-instantiate", "yamllint"},
			root:   true,
		},
		{
			name:     "missing as root: apt-get installs only what is missing",
			onPath:   []string{"apt-get", "yamllint"},
			provides: map[string]string{"nix-bin": "nix-instantiate"},
			root:     true,
			wantCmds: []string{"apt-get update -q", "apt-get install -y -q --no-install-recommends nix-bin"},
		},
		{
			name:    "missing without root: says how to install",
			onPath:  []string{"apt-get"},
			wantErr: "missing tools: nix-instantiate (Debian package nix-bin), yamllint (Debian package yamllint); installing needs root on a Debian system; install them with: sudo apt-get install -y nix-bin yamllint",
		},
		{
			name:    "missing on a system without apt-get",
			root:    true,
			wantErr: "installing needs root on a Debian system",
		},
		{
			name:     "package installed but command still absent",
			onPath:   []string{"apt-get", "yamllint"},
			root:     true,
			wantCmds: []string{"apt-get update -q", "apt-get install -y -q --no-install-recommends nix-bin"},
			wantErr:  "missing tools: nix-instantiate (Debian package nix-bin); apt-get installed the packages but the commands are still not on PATH",
		},
		{
			name:     "apt-get fails",
			onPath:   []string{"apt-get", "yamllint"},
			root:     true,
			aptFails: true,
			wantCmds: []string{"apt-get update -q"},
			wantErr:  "apt-get update: exit status 100",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &fakeSystem{onPath: map[string]bool{}, provides: tt.provides, aptFails: tt.aptFails}
			for _, c := range tt.onPath {
				sys.onPath[c] = true
			}
			err := toolchain.Ensure(context.Background(), []toolchain.Tool{nix, lint},
				toolchain.WithLookPath(sys.lookPath), toolchain.WithRunner(sys.run), toolchain.WithRoot(tt.root))
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			require.Equal(t, tt.wantCmds, sys.commands)
		})
	}
}

func TestMissingErrorIsTyped(t *testing.T) {
	err := toolchain.Ensure(context.Background(), []toolchain.Tool{{Command: "absent", Debian: "absent-pkg"}},
		toolchain.WithLookPath(func(string) (string, error) { return "", exec.ErrNotFound }))
	var missing *toolchain.MissingError
	require.ErrorAs(t, err, &missing)
	require.Equal(t, "absent", missing.Tools[0].Command)
}

func ExampleEnsure() {
	// On a machine without the tool and without root, Ensure says what to run.
	err := toolchain.Ensure(context.Background(),
		[]toolchain.Tool{{Command: "nix-instantiate", Debian: "nix-bin"}},
		toolchain.WithRoot(false),
		toolchain.WithLookPath(func(string) (string, error) { return "", exec.ErrNotFound }))
	fmt.Println(err)
	// Output:
	// missing tools: nix-instantiate (Debian package nix-bin); installing needs root on a Debian system; install them with: sudo apt-get install -y nix-bin
}

func TestEnsureGo(t *testing.T) {
	sops := toolchain.GoTool{Command: "sops", Package: "github.com/getsops/sops/v3/cmd/sops", Version: "v3.13.3"}
	tests := []struct {
		name      string
		prepare   func(t *testing.T, cache string)
		install   func(gobin string) error
		wantCalls int
		wantErr   string
	}{
		{
			name:      "missing: built once into the cache",
			install:   func(gobin string) error { return os.WriteFile(filepath.Join(gobin, "sops"), []byte("bin"), 0o755) },
			wantCalls: 1,
		},
		{
			name: "cached: nothing is built",
			prepare: func(t *testing.T, cache string) {
				require.NoError(t, os.MkdirAll(filepath.Join(cache, "sops-v3.13.3"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(cache, "sops-v3.13.3", "sops"), []byte("bin"), 0o755))
			},
		},
		{
			name: "damaged cache entry: rebuilt",
			prepare: func(t *testing.T, cache string) {
				require.NoError(t, os.MkdirAll(filepath.Join(cache, "sops-v3.13.3"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(cache, "sops-v3.13.3", "leftover"), nil, 0o644))
			},
			install:   func(gobin string) error { return os.WriteFile(filepath.Join(gobin, "sops"), []byte("bin"), 0o755) },
			wantCalls: 1,
		},
		{
			name: "another run finished first: its build is kept",
			install: func(gobin string) error {
				final := filepath.Join(filepath.Dir(gobin), "sops-v3.13.3")
				if err := os.MkdirAll(final, 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(final, "sops"), []byte("bin"), 0o755); err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(gobin, "sops"), []byte("bin"), 0o755)
			},
			wantCalls: 1,
		},
		{
			name:      "build fails: typed error, nothing left in the cache",
			install:   func(string) error { return errors.New("exit status 1") },
			wantCalls: 1,
			wantErr:   "build sops@v3.13.3: exit status 1; retry by hand with: GOBIN=<dir> go install github.com/getsops/sops/v3/cmd/sops@v3.13.3",
		},
		{
			name:      "build yields no binary",
			install:   func(string) error { return nil },
			wantCalls: 1,
			wantErr:   "go install produced no sops",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			if tt.prepare != nil {
				tt.prepare(t, cache)
			}
			calls := 0
			err := toolchain.EnsureGo(context.Background(), []toolchain.GoTool{sops},
				toolchain.WithCacheDir(cache),
				toolchain.WithGoInstaller(func(_ context.Context, gobin, pkg string) error {
					calls++
					require.Equal(t, "github.com/getsops/sops/v3/cmd/sops@v3.13.3", pkg)
					require.Equal(t, cache, filepath.Dir(gobin), "builds beside the final place")
					return tt.install(gobin)
				}))
			require.Equal(t, tt.wantCalls, calls)
			requireBuildOutcome(t, cache, err, tt.wantErr, new(*toolchain.BuildError), sops.Path(cache))
		})
	}
}

// requireBuildOutcome checks what EnsureGo left in cache: after an error
// (containing wantErr, matching errors.As(err, wantType), a pointer to
// the error type's pointer) nothing, else only the tool's
// directory, with its binary at bin.
func requireBuildOutcome(t *testing.T, cache string, err error, wantErr string, wantType any, bin string) {
	t.Helper()
	entries, rerr := os.ReadDir(cache)
	require.NoError(t, rerr)
	if wantErr != "" {
		require.ErrorContains(t, err, wantErr)
		require.ErrorAs(t, err, wantType)
		require.Empty(t, entries, "a refused or failed build leaves nothing behind")
		return
	}
	require.NoError(t, err)
	require.FileExists(t, bin)
	require.Len(t, entries, 1, "only the tool's directory remains")
}

func TestCacheDir(t *testing.T) {
	t.Setenv(toolchain.EnvCache, "/srv/tools")
	dir, err := toolchain.CacheDir()
	require.NoError(t, err)
	require.Equal(t, "/srv/tools", dir)

	t.Setenv(toolchain.EnvCache, "")
	t.Setenv("XDG_CACHE_HOME", "/home/op/.cache")
	dir, err = toolchain.CacheDir()
	require.NoError(t, err)
	require.Equal(t, "/home/op/.cache/infra-tools", dir)
	require.Equal(t, "/home/op/.cache/infra-tools/sops-v3.13.3/sops",
		toolchain.GoTool{Command: "sops", Version: "v3.13.3"}.Path(dir))
}
