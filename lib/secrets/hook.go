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

// hookMarker identifies a pre-commit hook InstallHook wrote.
const hookMarker = "# Installed by go run mage.go secrets:hook."

// HookScript is the pre-commit hook InstallHook installs: it checks what
// is about to be committed, the git index, and refuses the commit on a
// finding.
const HookScript = `#!/bin/sh
` + hookMarker + `
# Refuses a commit that carries a plaintext secret (docs/operations/secrets.md).
# Bypass once, knowingly, with: git commit --no-verify
exec go run mage.go secrets:check -staged
`

// ErrForeignHook means a pre-commit hook that InstallHook did not write is
// in the way.
var ErrForeignHook = errors.New("another pre-commit hook is installed")

// InstallHook installs HookScript as the pre-commit hook of the git
// repository at root (honouring core.hooksPath) and returns its path and
// whether anything changed. It replaces a hook it wrote before and never
// one it did not.
func InstallHook(ctx context.Context, root string, opts ...Option) (string, bool, error) {
	o := newOptions(opts)
	out, err := git(ctx, root, nil, "rev-parse", "--git-path", "hooks/pre-commit")
	if err != nil {
		return "", false, fmt.Errorf("find the git hooks of %s (is it a git clone?): %w", root, err)
	}
	hook := strings.TrimSpace(string(out))
	if !filepath.IsAbs(hook) {
		hook = filepath.Join(root, hook)
	}
	current, err := os.ReadFile(hook)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return hook, false, err
	case bytes.Equal(current, []byte(HookScript)):
		if fi, err := os.Stat(hook); err == nil && fi.Mode().Perm()&0o111 != 0 {
			return hook, false, nil
		}
	case !bytes.Contains(current, []byte(hookMarker)):
		return hook, false, fmt.Errorf("%w: %s was not written by secrets:hook; add the line `go run mage.go secrets:check -staged` to it yourself, or move it away and run secrets:hook again", ErrForeignHook, hook)
	}
	if o.dryRun {
		return hook, true, nil
	}
	if err := os.MkdirAll(filepath.Dir(hook), 0o755); err != nil {
		return hook, false, err
	}
	if err := atomicfile.Write(hook, []byte(HookScript), 0o755); err != nil {
		return hook, false, err
	}
	return hook, true, nil
}
