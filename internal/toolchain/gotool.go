package toolchain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// EnvCache overrides the directory that caches tools built from Go modules.
const EnvCache = "INFRA_TOOLS_CACHE"

// GoTool is a command built from a Go module at a pinned version, into a
// cache outside the repository so a second run reuses it.
type GoTool struct {
	// Command is the executable's name, e.g. "sops".
	Command string
	// Module is the module that holds Package, e.g.
	// "github.com/getsops/sops/v3"; Version is its version.
	Module string
	// Package is the main package, e.g. "github.com/getsops/sops/v3/cmd/sops".
	Package string
	// Version is the module version, e.g. "v3.13.3".
	Version string
}

// String names the tool and its version.
func (g GoTool) String() string { return g.Command + "@" + g.Version }

// CacheDir returns the tool cache: $INFRA_TOOLS_CACHE, else infra-tools in
// the user's cache directory (~/.cache/infra-tools).
func CacheDir() (string, error) {
	if dir := os.Getenv(EnvCache); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the tool cache (set %s): %w", EnvCache, err)
	}
	return filepath.Join(base, "infra-tools"), nil
}

// Path returns where the tool's binary lives in the cache:
// <cache>/<command>-<version>/<command>.
func (g GoTool) Path(cache string) string {
	return filepath.Join(cache, g.Command+"-"+g.Version, g.Command)
}

// GoInstaller builds pkg@version with its binary going into gobin.
type GoInstaller func(ctx context.Context, gobin, pkgAtVersion string) error

// WithGoInstaller replaces how EnsureGo builds a tool (default: go install).
func WithGoInstaller(f GoInstaller) Option { return func(o *options) { o.goInstall = f } }

// WithCacheDir sets the tool cache (default: CacheDir()).
func WithCacheDir(dir string) Option { return func(o *options) { o.cache = dir } }

// BuildError says which tool failed to build and why.
type BuildError struct {
	// Tool is the tool that did not build.
	Tool GoTool
	// Err is the cause.
	Err error
}

// Error names the tool and the command to retry by hand.
func (e *BuildError) Error() string {
	return fmt.Sprintf("build %s: %v; retry by hand with: GOBIN=<dir> go install %s@%s", e.Tool, e.Err, e.Tool.Package, e.Tool.Version)
}

// Unwrap returns the cause.
func (e *BuildError) Unwrap() error { return e.Err }

// EnsureGo builds every tool missing from the cache with `go install` and
// returns nothing when all are present. A tool is built into a temporary
// directory beside its final place and moved there whole, so an
// interrupted build never leaves a half-written binary in the cache.
func EnsureGo(ctx context.Context, tools []GoTool, opts ...Option) error {
	o := newOptions(opts)
	cache := o.cache
	if cache == "" {
		var err error
		if cache, err = CacheDir(); err != nil {
			return err
		}
	}
	for _, t := range tools {
		if fi, err := os.Stat(t.Path(cache)); err == nil && fi.Mode().IsRegular() {
			continue
		}
		// A directory without its binary is the remains of a damaged cache.
		if err := os.RemoveAll(filepath.Dir(t.Path(cache))); err != nil {
			return fmt.Errorf("repair the tool cache: %w", err)
		}
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return fmt.Errorf("create the tool cache %s: %w", cache, err)
		}
		start := time.Now()
		o.log.Info("building tool from the Go module proxy (cached afterwards)", "tool", t.String(), "cache", cache)
		err := atomicfile.Dir(filepath.Dir(t.Path(cache)), func(tmp string) error {
			if err := o.goInstall(ctx, tmp, t.Package+"@"+t.Version); err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(tmp, t.Command)); err != nil {
				return fmt.Errorf("go install produced no %s in %s", t.Command, tmp)
			}
			return nil
		})
		if errors.Is(err, fs.ErrExist) {
			if _, serr := os.Stat(t.Path(cache)); serr == nil {
				err = nil // another run built it at the same time
			}
		}
		if err != nil {
			return &BuildError{Tool: t, Err: err}
		}
		o.log.Info("built tool", "tool", t.String(), "took", time.Since(start).Round(time.Second))
	}
	return nil
}

// goInstall runs go install with GOBIN set, its output on stderr.
func goInstall(ctx context.Context, gobin, pkgAtVersion string) error {
	cmd := exec.CommandContext(ctx, "go", "install", "-trimpath", "-ldflags=-s -w", pkgAtVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go install %s: %w", pkgAtVersion, err)
	}
	return nil
}
