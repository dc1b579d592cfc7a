package toolchain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
)

// Tool is an external command and the Debian package that provides it.
type Tool struct {
	// Command is the executable looked up on PATH.
	Command string
	// Debian is the Debian package that installs Command.
	Debian string
}

// MissingError lists tools that are not installed and could not be installed.
type MissingError struct {
	// Tools are the missing tools.
	Tools []Tool
	// Reason says why they were not installed.
	Reason string
}

// Error names each missing tool and the command that installs them all.
func (e *MissingError) Error() string {
	names := make([]string, len(e.Tools))
	pkgs := make([]string, len(e.Tools))
	for i, t := range e.Tools {
		names[i] = fmt.Sprintf("%s (Debian package %s)", t.Command, t.Debian)
		pkgs[i] = t.Debian
	}
	return fmt.Sprintf("missing tools: %s; %s; install them with: sudo apt-get install -y %s",
		strings.Join(names, ", "), e.Reason, strings.Join(pkgs, " "))
}

// Runner runs a command to completion.
type Runner func(ctx context.Context, name string, args ...string) error

// options configure Ensure.
type options struct {
	log       *slog.Logger
	run       Runner
	lookPath  func(string) (string, error)
	root      bool
	goInstall GoInstaller
	goBuild   GoBuilder
	cache     string
	// pluginInstall installs a Packer plugin (EnsurePackerPlugins).
	pluginInstall PackerPluginInstaller
	// npmInstall installs an npm package (EnsureNPM).
	npmInstall NPMInstaller
}

func newOptions(opts []Option) options {
	o := options{
		log:       slog.New(slog.DiscardHandler),
		run:       execRunner,
		lookPath:  exec.LookPath,
		root:      os.Geteuid() == 0,
		goInstall: goInstall,
		goBuild:   goBuild,
		// The default installer of Packer plugins.
		pluginInstall: installPackerPlugin,
		npmInstall:    npmInstall,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Option configures Ensure.
type Option func(*options)

// WithLogger sets the logger that reports installs (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRunner replaces the command runner (default: os/exec, output to stderr).
func WithRunner(r Runner) Option { return func(o *options) { o.run = r } }

// WithLookPath replaces the PATH lookup (default: exec.LookPath).
func WithLookPath(f func(string) (string, error)) Option { return func(o *options) { o.lookPath = f } }

// WithRoot says whether the process may install packages (default: running as root).
func WithRoot(root bool) Option { return func(o *options) { o.root = root } }

// Ensure makes sure every tool is on PATH. Missing tools are installed with
// apt-get when the process runs as root on a Debian system; otherwise, or if
// the install does not provide them, Ensure returns a *MissingError.
func Ensure(ctx context.Context, tools []Tool, opts ...Option) error {
	o := newOptions(opts)
	missing := o.missing(tools)
	if len(missing) == 0 {
		return nil
	}
	if _, err := o.lookPath("apt-get"); err != nil || !o.root {
		return &MissingError{Tools: missing, Reason: "installing needs root on a Debian system"}
	}
	pkgs := make([]string, len(missing))
	for i, t := range missing {
		pkgs[i] = t.Debian
	}
	o.log.Info("installing Debian packages", "packages", strings.Join(pkgs, " "))
	if err := o.run(ctx, "apt-get", "update", "-q"); err != nil {
		return fmt.Errorf("apt-get update: %w", err)
	}
	args := append([]string{"install", "-y", "-q", "--no-install-recommends"}, pkgs...)
	if err := o.run(ctx, "apt-get", args...); err != nil {
		return fmt.Errorf("apt-get install %s: %w", strings.Join(pkgs, " "), err)
	}
	if still := o.missing(missing); len(still) > 0 {
		return &MissingError{Tools: still, Reason: "apt-get installed the packages but the commands are still not on PATH"}
	}
	return nil
}

func (o *options) missing(tools []Tool) []Tool {
	var out []Tool
	for _, t := range tools {
		if _, err := o.lookPath(t.Command); err != nil {
			out = append(out, t)
		}
	}
	return out
}

// execRunner runs a command with its output on stderr, non-interactively.
func execRunner(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("%s exited with status %d", name, exitErr.ExitCode())
		}
		return err
	}
	return nil
}
