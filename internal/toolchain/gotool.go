package toolchain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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
	// ModuleDir, when set, is a pinned tools module: a directory whose
	// go.mod requires Module at Version (with any replace lines the tool
	// needs to resolve) and whose go.sum is committed. The tool is then
	// built there with go build -mod=readonly instead of go install, and
	// EnsureGo refuses to build when go.mod requires another version.
	ModuleDir string
	// TerraformProvider, when set, is the source address of the Terraform
	// provider the tool is (e.g. "registry.terraform.io/bpg/proxmox"): the
	// binary is laid out in the tool's directory as a Terraform filesystem
	// mirror, <address>/<version>/<os>_<arch>/<command>_v<version>.
	TerraformProvider string
	// PackerPlugin, when set, is the source address of the Packer plugin
	// the tool is (e.g. "github.com/hashicorp/proxmox"): after the build,
	// EnsurePackerPlugins installs the binary under that address into
	// PackerPluginDir, where Packer finds it offline.
	PackerPlugin string
	// BuildEnv are environment variables the build from ModuleDir needs,
	// "NAME=value" each, e.g. "GOEXPERIMENT=jsonv2" for trivy, whose
	// code does not compile without Go's encoding/json/v2 experiment.
	BuildEnv []string
	// LDFlags are linker flags the build from ModuleDir adds after -s -w,
	// e.g. "-X k8s.io/component-base/version.gitVersion={version}", which
	// kube-apiserver needs to report its version. They name the version
	// only through placeholders filled from Version ({version}: Version
	// itself; {major}, {minor}: its first two numbers), so the version
	// stays in one place; LinkFlags expands them.
	LDFlags []string
}

// linkBase are the linker flags of every build: no symbol table, no DWARF.
const linkBase = "-s -w"

// LinkFlags returns the value of go build's -ldflags for the tool: -s -w,
// then LDFlags with their placeholders filled from Version. A placeholder
// other than {version}, {major} and {minor}, or {major}/{minor} with a
// Version that is not vMAJOR.MINOR.PATCH, is an error.
func (g GoTool) LinkFlags() (string, error) {
	flags := []string{linkBase}
	major, minor, semver := versionNumbers(g.Version)
	for _, f := range g.LDFlags {
		if (strings.Contains(f, "{major}") || strings.Contains(f, "{minor}")) && !semver {
			return "", fmt.Errorf("%s: LDFlags %q needs a version vMAJOR.MINOR.PATCH", g, f)
		}
		out := strings.NewReplacer("{version}", g.Version, "{major}", major, "{minor}", minor).Replace(f)
		if i := strings.Index(out, "{"); i >= 0 {
			if j := strings.Index(out[i:], "}"); j > 0 {
				return "", fmt.Errorf("%s: LDFlags %q holds %s; known: {version}, {major}, {minor}", g, f, out[i:i+j+1])
			}
		}
		flags = append(flags, out)
	}
	return strings.Join(flags, " "), nil
}

// versionNumbers returns the major and minor numbers of a version
// vMAJOR.MINOR.PATCH[-pre][+build], and whether it is one.
func versionNumbers(v string) (major, minor string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) != 3 || !strings.HasPrefix(v, "v") {
		return "", "", false
	}
	patch, _, _ := strings.Cut(strings.SplitN(parts[2], "+", 2)[0], "-")
	for _, n := range []string{parts[0], parts[1], patch} {
		if n == "" || strings.Trim(n, "0123456789") != "" {
			return "", "", false
		}
	}
	return parts[0], parts[1], true
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

// Dir returns the tool's directory in the cache: <cache>/<command>-<version>.
// For a Terraform provider it is the filesystem mirror that holds it.
func (g GoTool) Dir(cache string) string {
	return filepath.Join(cache, g.Command+"-"+g.Version)
}

// Path returns where the tool's binary lives in the cache:
// <cache>/<command>-<version>/<command>, or for a Terraform provider
// <cache>/<command>-<version>/<address>/<version>/<os>_<arch>/<command>_<version>.
func (g GoTool) Path(cache string) string {
	return filepath.Join(g.Dir(cache), g.binary())
}

// binary is the binary's path inside the tool's directory.
func (g GoTool) binary() string {
	if g.TerraformProvider == "" {
		return g.Command
	}
	return filepath.Join(filepath.FromSlash(g.TerraformProvider), strings.TrimPrefix(g.Version, "v"),
		runtime.GOOS+"_"+runtime.GOARCH, g.Command+"_"+g.Version)
}

// GoInstaller builds pkg@version with its binary going into gobin.
type GoInstaller func(ctx context.Context, gobin, pkgAtVersion string) error

// WithGoInstaller replaces how EnsureGo builds a tool (default: go install).
func WithGoInstaller(f GoInstaller) Option { return func(o *options) { o.goInstall = f } }

// GoBuilder builds the main package pkg of the module in dir into the
// binary out, with the variables env (the tool's BuildEnv) added to the
// environment and ldflags (the tool's LinkFlags) as go build's -ldflags.
type GoBuilder func(ctx context.Context, dir, pkg, out string, env []string, ldflags string) error

// WithGoBuilder replaces how EnsureGo builds a tool from its pinned tools
// module (default: go build -mod=readonly -trimpath).
func WithGoBuilder(f GoBuilder) Option { return func(o *options) { o.goBuild = f } }

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
	if e.Tool.ModuleDir != "" {
		env := strings.Join(e.Tool.BuildEnv, " ")
		if env != "" {
			env += " "
		}
		ldflags, err := e.Tool.LinkFlags()
		if err != nil {
			ldflags = linkBase
		}
		return fmt.Sprintf("build %s: %v; retry by hand with: (cd %s && %sgo build %s -ldflags=%q -o <file> %s)",
			e.Tool, e.Err, e.Tool.ModuleDir, env, strings.Join(goBuildFlags, " "), ldflags, e.Tool.Package)
	}
	return fmt.Sprintf("build %s: %v; retry by hand with: GOBIN=<dir> go install %s@%s", e.Tool, e.Err, e.Tool.Package, e.Tool.Version)
}

// Unwrap returns the cause.
func (e *BuildError) Unwrap() error { return e.Err }

// ModuleVersionError says a pinned tools module does not build the version
// asked for: its go.mod requires another version of the tool's module (or
// none, or replaces it). It is a defect of the repository, not a missing
// tool: the version asked for and go.mod change together.
type ModuleVersionError struct {
	// Tool is the tool asked for, with the version asked for.
	Tool GoTool
	// GoMod is the go.mod file read.
	GoMod string
	// Problem says what go.mod holds instead.
	Problem string
}

// Error names the go.mod, what it holds and what was asked for.
func (e *ModuleVersionError) Error() string {
	return fmt.Sprintf("%s: %s, but %s is asked for; change the tool's version and this go.mod together (then go mod tidy there)",
		e.GoMod, e.Problem, e.Tool)
}

// CheckModule makes sure the tool's pinned tools module (ModuleDir) builds
// the version asked for: its go.mod requires Module at Version and does not
// replace it. It reads go.mod with go mod edit -json, offline. A tool
// without ModuleDir has nothing to check. A mismatch is a
// *ModuleVersionError.
func (g GoTool) CheckModule(ctx context.Context) error {
	if g.ModuleDir == "" {
		return nil
	}
	gomod := filepath.Join(g.ModuleDir, "go.mod")
	cmd := exec.CommandContext(ctx, "go", "mod", "edit", "-json")
	cmd.Dir = g.ModuleDir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("read %s with go mod edit -json: %w: %s", gomod, err, strings.TrimSpace(stderr.String()))
	}
	var mod struct {
		Require []struct{ Path, Version string }
		Replace []struct{ Old struct{ Path string } }
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		return fmt.Errorf("read %s: go mod edit -json: %w", gomod, err)
	}
	for _, r := range mod.Replace {
		if r.Old.Path == g.Module {
			return &ModuleVersionError{Tool: g, GoMod: gomod, Problem: "it replaces " + g.Module}
		}
	}
	for _, r := range mod.Require {
		if r.Path != g.Module {
			continue
		}
		if r.Version != g.Version {
			return &ModuleVersionError{Tool: g, GoMod: gomod, Problem: "it requires " + g.Module + " " + r.Version}
		}
		return nil
	}
	return &ModuleVersionError{Tool: g, GoMod: gomod, Problem: "it does not require " + g.Module}
}

// EnsureGo builds every tool missing from the cache and returns nothing
// when all are present: with go install, or, for a tool with a pinned tools
// module (ModuleDir), with go build there after CheckModule. A tool is
// built into a temporary directory beside its final place and moved there
// whole, so an interrupted build never leaves a half-written binary in the
// cache.
func EnsureGo(ctx context.Context, tools []GoTool, opts ...Option) error {
	o := newOptions(opts)
	cache, err := o.cacheDir()
	if err != nil {
		return err
	}
	for _, t := range tools {
		if fi, err := os.Stat(t.Path(cache)); err == nil && fi.Mode().IsRegular() {
			continue
		}
		if err := t.CheckModule(ctx); err != nil {
			return err
		}
		if err := repairCache(cache, t.Dir(cache)); err != nil {
			return err
		}
		start := time.Now()
		o.log.Info("building tool from the Go module proxy (cached afterwards)", "tool", t.String(), "cache", cache)
		if err := fillCache(t.Dir(cache), t.Path(cache), func(tmp string) error { return o.build(ctx, t, tmp) }); err != nil {
			return &BuildError{Tool: t, Err: err}
		}
		o.log.Info("built tool", "tool", t.String(), "took", time.Since(start).Round(time.Second))
	}
	return nil
}

// cacheDir is the tool cache: WithCacheDir's, else CacheDir().
func (o *options) cacheDir() (string, error) {
	if o.cache != "" {
		return o.cache, nil
	}
	return CacheDir()
}

// repairCache removes what a damaged cache left at the tool directory dir
// (a directory without its binary) and makes sure the cache exists.
func repairCache(cache, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("repair the tool cache: %w", err)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return fmt.Errorf("create the tool cache %s: %w", cache, err)
	}
	return nil
}

// fillCache makes the tool directory dir with fill, atomically (a reader
// finds all of it or none); another run that made it meanwhile (path, the
// tool's binary, exists) is no error.
func fillCache(dir, path string, fill func(tmp string) error) error {
	err := atomicfile.Dir(dir, fill)
	if errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(path); serr == nil {
			return nil // another run made it at the same time
		}
	}
	return err
}

// build puts the tool's binary in dir, at its place there.
func (o *options) build(ctx context.Context, t GoTool, dir string) error {
	out := filepath.Join(dir, t.binary())
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if t.ModuleDir != "" {
		ldflags, err := t.LinkFlags()
		if err != nil {
			return err
		}
		if err := o.goBuild(ctx, t.ModuleDir, t.Package, out, t.BuildEnv, ldflags); err != nil {
			return err
		}
		if _, err := os.Stat(out); err != nil {
			return fmt.Errorf("go build produced no %s", out)
		}
		return nil
	}
	if len(t.BuildEnv) > 0 {
		return fmt.Errorf("%s has a BuildEnv (%s) but no pinned tools module (ModuleDir): go install would build it without", t, strings.Join(t.BuildEnv, " "))
	}
	if len(t.LDFlags) > 0 {
		return fmt.Errorf("%s has LDFlags but no pinned tools module (ModuleDir): go install would build it without", t)
	}
	if err := o.goInstall(ctx, dir, t.Package+"@"+t.Version); err != nil {
		return err
	}
	installed := filepath.Join(dir, t.Command)
	if _, err := os.Stat(installed); err != nil {
		return fmt.Errorf("go install produced no %s in %s", t.Command, dir)
	}
	if installed != out {
		return os.Rename(installed, out)
	}
	return nil
}

// goBuildFlags are the flags of a tool's build from its pinned module,
// besides -ldflags (GoTool.LinkFlags).
var goBuildFlags = []string{"-mod=readonly", "-trimpath"}

// goBuild runs go build in a pinned tools module with env added to the
// environment and ldflags as -ldflags, its output on stderr.
func goBuild(ctx context.Context, dir, pkg, out string, env []string, ldflags string) error {
	args := append(append([]string{"build"}, goBuildFlags...), "-ldflags="+ldflags, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s in %s: %w", pkg, dir, err)
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
