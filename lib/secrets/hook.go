package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// Hook is the git pre-commit hook InstallHook writes: a shell script that
// runs Command on every commit and refuses the commit when it fails.
type Hook struct {
	// Command is the shell command the hook runs. It should check what is
	// about to be committed (Check with WithStaged) and exit non-zero on a
	// finding.
	Command string
	// InstalledBy names what installs the hook; the hook's marker line
	// says it, and a hook holding that line is one InstallHook may replace.
	InstalledBy string
}

// marker is the line that identifies a hook InstalledBy wrote.
func (h Hook) marker() string { return "# Installed by " + h.InstalledBy + "." }

// Script is the hook's text.
func (h Hook) Script() string {
	return "#!/bin/sh\n" + h.marker() + `
# Refuses a commit that carries a plaintext secret (docs/operations/secrets.md).
# Bypass once, knowingly, with: git commit --no-verify
exec ` + h.Command + "\n"
}

// validate refuses a hook without a command or an installer, or with a
// line break in either (it would change the script's lines).
func (h Hook) validate() error {
	switch {
	case strings.TrimSpace(h.Command) == "":
		return errors.New("the pre-commit hook needs the command it runs (Hook.Command)")
	case strings.TrimSpace(h.InstalledBy) == "":
		return errors.New("the pre-commit hook needs the name of what installs it (Hook.InstalledBy)")
	case strings.ContainsAny(h.Command+h.InstalledBy, "\r\n"):
		return fmt.Errorf("the pre-commit hook's command and installer are one line each: %q, %q", h.Command, h.InstalledBy)
	}
	return nil
}

// ErrForeignHook means a pre-commit hook that InstallHook did not write is
// in the way. Errors that wrap it are *ForeignHookError.
var ErrForeignHook = errors.New("another pre-commit hook is installed")

// ForeignHookError says which pre-commit hook is in the way, and the line
// it needs to run the check too.
type ForeignHookError struct {
	// Path is the hook in the way.
	Path string
	// Command is what the hook would have run (Hook.Command).
	Command string
}

// Error names the hook and the two ways out.
func (e *ForeignHookError) Error() string {
	return fmt.Sprintf("%v: %s was not written by this installer; add the line `%s` to it yourself, or move it away and install the hook again", ErrForeignHook, e.Path, e.Command)
}

// Is reports whether target is ErrForeignHook.
func (e *ForeignHookError) Is(target error) bool { return target == ErrForeignHook }

// InstallHook installs hook as the pre-commit hook of the git repository
// at root (honouring core.hooksPath) and returns its path and whether
// anything changed. It replaces a hook the same installer wrote before
// (its marker line) and never one it did not (a *ForeignHookError).
func InstallHook(ctx context.Context, root string, hook Hook, opts ...Option) (string, bool, error) {
	if err := hook.validate(); err != nil {
		return "", false, err
	}
	o := newOptions(opts)
	out, err := git(ctx, root, nil, "rev-parse", "--git-path", "hooks/pre-commit")
	if err != nil {
		return "", false, fmt.Errorf("find the git hooks of %s (is it a git clone?): %w", root, err)
	}
	path := strings.TrimSpace(string(out))
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	script := []byte(hook.Script())
	current, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return path, false, err
	case bytes.Equal(current, script):
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o111 != 0 {
			return path, false, nil
		}
	case !bytes.Contains(current, []byte(hook.marker()+"\n")):
		return path, false, &ForeignHookError{Path: path, Command: hook.Command}
	}
	if o.dryRun {
		return path, true, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return path, false, err
	}
	if err := atomicfile.Write(path, script, 0o755); err != nil {
		return path, false, err
	}
	return path, true, nil
}
