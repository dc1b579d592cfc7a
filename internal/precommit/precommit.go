package precommit

import (
	"fmt"
	"strings"

	"github.com/wdiazux/infra/internal/magerun"
	"github.com/wdiazux/infra/lib/secrets"
)

// ConfigFile is the pre-commit framework's configuration, relative to the
// repository's top folder.
const ConfigFile = ".pre-commit-config.yaml"

// InstalledBy is what installs the git hook: the marker line of every hook
// it wrote says it, so a hook from before is recognised and replaced.
const InstalledBy = magerun.Command + " secrets:hook"

// Hook is one check a commit runs: a Mage target with its flags.
type Hook struct {
	// ID is the hook's id in .pre-commit-config.yaml.
	ID string
	// Name is what pre-commit prints for it.
	Name string
	// Args are the target and its flags.
	Args []string
	// Fixes says the target rewrites files (formatters): the commit is
	// refused when it changed any, for the person to review and stage.
	Fixes bool
}

// Entry is the command the hook runs.
func (h Hook) Entry() string { return magerun.Command + " " + strings.Join(h.Args, " ") }

// Hooks are the checks every commit runs, in order: the secrets guard on
// what the commit holds, the formatters on the staged files, then every
// linter on the staged files.
func Hooks() []Hook {
	return []Hook{
		{ID: "secrets", Name: "secrets guard on what the commit holds", Args: []string{"secrets:check", "-staged"}},
		{ID: "fmt", Name: "formatters on the staged files (gofmt, terraform, packer)", Args: []string{"lint", "-fix", "-staged", "-only=gofmt,terraform,packer"}, Fixes: true},
		{ID: "lint", Name: "every linter on the staged files", Args: []string{"lint", "-staged"}},
	}
}

// TargetArgs splits an entry into the target and its flags; ok is false
// when the entry does not run a Mage target.
func TargetArgs(entry string) (args []string, ok bool) {
	rest, ok := strings.CutPrefix(entry, magerun.Command+" ")
	if !ok {
		return nil, false
	}
	args = strings.Fields(rest)
	if len(args) == 0 {
		return nil, false
	}
	return args, true
}

// GitHook is the git pre-commit hook secrets:hook installs: the entries of
// Hooks, in order.
func GitHook() secrets.Hook {
	h := secrets.Hook{InstalledBy: InstalledBy}
	for _, hook := range Hooks() {
		h.Steps = append(h.Steps, secrets.HookStep{Run: hook.Entry(), Fixes: hook.Fixes})
	}
	return h
}

// Config is the text of .pre-commit-config.yaml: Hooks as local hooks of
// the system language, without file names (each target finds the staged
// files itself), at the pre-commit stage.
func Config() []byte {
	var b strings.Builder
	b.WriteString(`---
# The checks every commit runs, in order. Generated from
# internal/precommit (go test ./internal/precommit -update); the git hook
# "` + InstalledBy + `" installs runs the same commands.
# Install: pre-commit install (or: ` + InstalledBy + `).
# docs/operations/quality.md says what each one does.
minimum_pre_commit_version: "3.2.0"
repos:
  - repo: local
    hooks:
`)
	for _, h := range Hooks() {
		fmt.Fprintf(&b, `      - id: %s
        name: %q
        entry: %s
        language: system
        pass_filenames: false
        always_run: true
        require_serial: true
        stages: [pre-commit]
`, h.ID, h.Name, h.Entry())
	}
	return []byte(b.String())
}
