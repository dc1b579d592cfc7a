package lint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/internal/magerun"
)

// MagefilesDir is the directory of the Mage targets, below the root.
const MagefilesDir = "magefiles"

// Vet is the go vet step: go vet ./..., then the Mage targets. Those
// carry the "mage" build tag, which cannot be passed to vet:
// dependencies such as go-proxmox ship their own magefiles under it.
// Naming the files instead vets them without the tag: all of them
// together, then each group of files `go run mage.go` compiles on its
// own for one target (MageFileSets), which proves every target builds
// without the files it does not need. Each "file:line:col: message" vet
// prints is a finding.
func Vet() Step {
	return Step{Name: "vet", Run: func(ctx context.Context, env *Env) (Result, error) {
		_, res, done, err := env.start(ctx, hasExt(".go"), "no Go file")
		if done {
			return res, err
		}
		sets, err := MageFileSets(env.Root)
		if err != nil {
			return res, err
		}
		runs := append([][]string{{"./..."}}, sets...)
		err = env.runEach(ctx, &res, "go", []string{"vet"}, runs, func(o output) []Finding {
			return parseGoDiagnostics("vet", env.Root, o.stderr)
		})
		return res, err
	}}
}

// runEach runs command with args and then each of runs in the root,
// adding the findings parse reads from each output to res, each once. A
// run that exits with a non-zero status and reports nothing parse can
// read is an error.
func (e *Env) runEach(ctx context.Context, res *Result, command string, args []string, runs [][]string, parse func(output) []Finding) error {
	seen := map[Finding]bool{}
	for _, run := range runs {
		o, err := e.run(ctx, ".", nil, command, append(slices.Clone(args), run...)...)
		if err != nil {
			return err
		}
		found := parse(o)
		if o.code != 0 {
			res.Exit = o.code
			if len(found) == 0 {
				return silentFailure(command+" "+strings.Join(append(slices.Clone(args), run...), " "), o)
			}
		}
		for _, f := range found {
			if !seen[f] {
				seen[f] = true
				res.Findings = append(res.Findings, f)
			}
		}
	}
	return nil
}

// MageFileSets returns the sets of Mage target files (relative to root)
// a check of the targets needs: all of them together, then each distinct
// group of files `go run mage.go` compiles on its own for one target. A
// root without a magefiles directory has none.
func MageFileSets(root string) ([][]string, error) {
	dir := filepath.Join(root, MagefilesDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	all, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(all) == 0 {
		return nil, fmt.Errorf("no Mage targets (*.go) under %s: %v", dir, err)
	}
	for i, f := range all {
		all[i], _ = filepath.Rel(root, f)
	}
	sets := [][]string{all}
	targets, err := magerun.LoadTargets("go", dir)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	groups := targets.Groups()
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		g := groups[name]
		if seen[g.Key] {
			continue
		}
		seen[g.Key] = true
		set := make([]string, len(g.Files))
		for i, f := range g.Files {
			set[i] = filepath.Join(MagefilesDir, f)
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// goDiagnostic is a line "file.go:line[:col]: message" of the go
// command, perhaps prefixed with "vet: ".
var goDiagnostic = regexp.MustCompile(`^(?:vet: )?(\S+?\.go):(\d+)(?::\d+)?: (.*)$`)

// parseGoDiagnostics reads the diagnostics the go command printed, each a
// finding of tool with the file relative to root; an indented line that
// follows one continues its message.
func parseGoDiagnostics(tool, root, out string) []Finding {
	var found []Finding
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := goDiagnostic.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			found = append(found, Finding{Tool: tool, File: relTo(root, m[1]), Line: n, Message: m[3]})
			continue
		}
		if len(found) > 0 && (strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "    ")) {
			found[len(found)-1].Message += " " + strings.TrimSpace(line)
		}
	}
	return found
}

// relTo returns path relative to root when it is absolute, cleaned.
func relTo(root, path string) string {
	if filepath.IsAbs(path) {
		if rel, err := filepath.Rel(root, path); err == nil {
			return rel
		}
	}
	return filepath.Clean(path)
}
