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
// runs its Steps in order on every commit and refuses the commit at the
// first that fails.
type Hook struct {
	// Steps are the commands the hook runs, in order. The first should
	// check what is about to be committed for secrets (Check with
	// WithStaged) and exit non-zero on a finding.
	Steps []HookStep
	// InstalledBy names what installs the hook; the hook's marker line
	// says it, and a hook holding that line is one InstallHook may replace.
	InstalledBy string
}

// HookStep is one command of a Hook.
type HookStep struct {
	// Run is the shell command, one line.
	Run string
	// Fixes says the command may rewrite files (a formatter): the commit
	// is refused when it changed the working tree, since the commit holds
	// what was staged before, so the person reviews and stages the change.
	Fixes bool
}

// marker is the line that identifies a hook InstalledBy wrote.
func (h Hook) marker() string { return "# Installed by " + h.InstalledBy + "." }

// Commands are the steps' commands, in order.
func (h Hook) Commands() []string {
	out := make([]string, 0, len(h.Steps))
	for _, s := range h.Steps {
		out = append(out, s.Run)
	}
	return out
}

// Script is the hook's text. A hook of one step that fixes nothing is the
// script hooks installed before steps existed (exec of the command).
func (h Hook) Script() string {
	head := "#!/bin/sh\n" + h.marker() + "\n"
	if len(h.Steps) == 1 && !h.Steps[0].Fixes {
		return head + `# Refuses a commit that carries a plaintext secret (docs/operations/secrets.md).
# Bypass once, knowingly, with: git commit --no-verify
exec ` + h.Steps[0].Run + "\n"
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(`# Runs these checks in order and refuses the commit at the first that fails;
# the first refuses a plaintext secret (docs/operations/secrets.md).
# Bypass once, knowingly, with: git commit --no-verify
set -e
`)
	for _, s := range h.Steps {
		if !s.Fixes {
			b.WriteString(s.Run + "\n")
			continue
		}
		b.WriteString("before=$(git diff --binary | git hash-object --stdin)\n")
		b.WriteString(s.Run + "\n")
		fmt.Fprintf(&b, "if [ \"$(git diff --binary | git hash-object --stdin)\" != \"$before\" ]; then\n"+
			"\techo %s >&2\n\texit 1\nfi\n", shellQuote("pre-commit: "+s.Run+" changed files: review the changes (git diff), git add them and commit again"))
	}
	return b.String()
}

// shellQuote quotes s as one single-quoted shell word.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// validate refuses a hook without steps, a step without a command, a hook
// without an installer, or a line break in a command or the installer (it
// would change the script's lines).
func (h Hook) validate() error {
	if len(h.Steps) == 0 {
		return errors.New("the pre-commit hook needs the commands it runs (Hook.Steps)")
	}
	for i, s := range h.Steps {
		if strings.TrimSpace(s.Run) == "" {
			return fmt.Errorf("the pre-commit hook's step %d has no command (Hook.Steps[%d].Run)", i+1, i)
		}
	}
	switch {
	case strings.TrimSpace(h.InstalledBy) == "":
		return errors.New("the pre-commit hook needs the name of what installs it (Hook.InstalledBy)")
	case strings.ContainsAny(strings.Join(h.Commands(), "")+h.InstalledBy, "\r\n"):
		return fmt.Errorf("the pre-commit hook's commands and installer are one line each: %q, %q", h.Commands(), h.InstalledBy)
	}
	return nil
}

// ErrForeignHook means a pre-commit hook that InstallHook did not write is
// in the way. Errors that wrap it are *ForeignHookError.
var ErrForeignHook = errors.New("another pre-commit hook is installed")

// ForeignHookError says which pre-commit hook is in the way, and the lines
// it needs to run the checks too.
type ForeignHookError struct {
	// Path is the hook in the way.
	Path string
	// Commands are what the hook would have run (Hook.Commands), in order.
	Commands []string
}

// Error names the hook and the two ways out.
func (e *ForeignHookError) Error() string {
	quoted := make([]string, len(e.Commands))
	for i, c := range e.Commands {
		quoted[i] = "`" + c + "`"
	}
	lines := "the line "
	if len(quoted) > 1 {
		lines = "the lines "
	}
	return fmt.Sprintf("%v: %s was not written by this installer; add %s%s to it yourself, or move it away and install the hook again", ErrForeignHook, e.Path, lines, strings.Join(quoted, ", "))
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
		return path, false, &ForeignHookError{Path: path, Commands: hook.Commands()}
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
