package toolchain

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// NPMTool is a command from an npm package at a pinned version, installed
// with npm into the tool cache so a second run reuses it (e.g. Renovate's
// renovate-config-validator).
type NPMTool struct {
	// Command is the executable the package provides, e.g.
	// "renovate-config-validator".
	Command string
	// Package is the npm package, e.g. "renovate"; Version its version.
	Package, Version string
}

// String names the package and its version.
func (n NPMTool) String() string { return n.Package + "@" + n.Version }

// Dir returns the tool's directory in the cache: <cache>/<package>-<version>.
func (n NPMTool) Dir(cache string) string { return filepath.Join(cache, n.Package+"-"+n.Version) }

// Path returns the command in the cache: <Dir>/node_modules/.bin/<command>.
func (n NPMTool) Path(cache string) string {
	return filepath.Join(n.Dir(cache), "node_modules", ".bin", n.Command)
}

// PackageDir returns the installed package's files (its JSON schema, …):
// <Dir>/node_modules/<package>.
func (n NPMTool) PackageDir(cache string) string {
	return filepath.Join(n.Dir(cache), "node_modules", n.Package)
}

// NPMInstaller installs pkgAtVersion (package@version) into the folder
// prefix (npm install --prefix).
type NPMInstaller func(ctx context.Context, prefix, pkgAtVersion string) error

// WithNPMInstaller replaces how EnsureNPM installs a package (default:
// npm install --prefix <dir> --ignore-scripts --no-audit --no-fund).
func WithNPMInstaller(f NPMInstaller) Option { return func(o *options) { o.npmInstall = f } }

// NPMError says which npm tool failed to install and why.
type NPMError struct {
	// Tool is the tool that did not install.
	Tool NPMTool
	// Err is the cause.
	Err error
}

// Error names the tool and the command to retry by hand.
func (e *NPMError) Error() string {
	return fmt.Sprintf("install %s: %v; retry by hand with: npm install --prefix <dir> --ignore-scripts %s (needs npm: sudo apt-get install -y npm)",
		e.Tool, e.Err, e.Tool)
}

// Unwrap returns the cause.
func (e *NPMError) Unwrap() error { return e.Err }

// EnsureNPM installs the tools missing from the tool cache; tools already
// there are left as they are. An install that fails is an *NPMError.
func EnsureNPM(ctx context.Context, tools []NPMTool, opts ...Option) error {
	o := newOptions(opts)
	cache, err := o.cacheDir()
	if err != nil {
		return err
	}
	for _, t := range tools {
		if _, err := os.Stat(t.Path(cache)); err == nil {
			continue
		}
		if err := repairCache(cache, t.Dir(cache)); err != nil {
			return err
		}
		start := time.Now()
		o.log.Info("installing tool from npm (cached afterwards)", "tool", t.String(), "cache", cache)
		err := fillCache(t.Dir(cache), t.Path(cache), func(tmp string) error {
			if err := o.npmInstall(ctx, tmp, t.String()); err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(tmp, "node_modules", ".bin", t.Command)); err != nil {
				return fmt.Errorf("the package provides no %s", t.Command)
			}
			return nil
		})
		if err != nil {
			return &NPMError{Tool: t, Err: err}
		}
		o.log.Info("installed tool", "tool", t.String(), "took", time.Since(start).Round(time.Second))
	}
	return nil
}

// npmInstall runs npm install without the packages' install scripts (no
// native builds; Renovate falls back from RE2 to JavaScript regexps).
func npmInstall(ctx context.Context, prefix, pkgAtVersion string) error {
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", prefix, "--ignore-scripts", "--no-audit", "--no-fund",
		"--no-save", "--loglevel=error", pkgAtVersion)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install %s: %w", pkgAtVersion, err)
	}
	return nil
}
