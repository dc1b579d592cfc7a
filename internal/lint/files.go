package lint

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ErrToolMissing says a tool a step runs is neither in Env.Tools nor on
// PATH.
var ErrToolMissing = errors.New("a tool lint runs is missing")

// NoneStaged is the note of a step none of whose files is among
// Env.Files.
const NoneStaged = "none of its files staged"

// tool returns the binary of command: Env.Tools's, else the one on PATH.
func (e *Env) tool(command string) (string, error) {
	if p, ok := e.Tools[command]; ok && p != "" {
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			return "", fmt.Errorf("%w: %s is not built at %s; the test target's tools step (or the lint target) builds it into the tool cache", ErrToolMissing, command, p)
		}
		return p, nil
	}
	p, err := exec.LookPath(command)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not on PATH (%w); the test target's tools step installs it (the Nix shell has it)", ErrToolMissing, command, err)
	}
	return p, nil
}

// RepoFiles returns the files of the repository at root, relative to it
// and sorted: those git tracks and new ones it does not ignore, that
// exist, outside testdata directories (fixtures, broken on purpose) and
// vendor.
func RepoFiles(ctx context.Context, root string) ([]string, error) {
	listed, err := gitFiles(ctx, root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range listed {
		if excluded(f) {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(root, f)); err != nil || !fi.Mode().IsRegular() {
			continue // deleted but still in the index, or a symbolic link
		}
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return files, nil
}

// StagedFiles returns the files staged for a commit in the repository at
// root (added, copied, modified or renamed; not deleted), relative to it.
func StagedFiles(ctx context.Context, root string) ([]string, error) {
	return gitFiles(ctx, root, "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR")
}

// gitFiles runs git with args (which print NUL-separated paths) in root
// and returns the paths; none is an empty list, not nil.
func gitFiles(ctx context.Context, root string, args ...string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list files with git %s in %s: %w: %s", strings.Join(args, " "), root, err, strings.TrimSpace(stderr.String()))
	}
	files := []string{}
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// excluded reports whether a repository path is out of lint's reach:
// under a testdata or vendor directory, or a hidden tool directory
// (.terraform, .git).
func excluded(path string) bool {
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		if part == "testdata" || part == "vendor" || part == ".terraform" || part == ".git" {
			return true
		}
	}
	return false
}

// files returns the repository's files match keeps, limited to Env.Files
// when it is set.
func (e *Env) files(ctx context.Context, match func(path string) bool) ([]string, error) {
	all, err := RepoFiles(ctx, e.Root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range all {
		if match(f) && e.staged(f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// start lists the files of a step (match; see files) and returns them
// with the Result counting them. done says there is nothing to run: none
// of them is staged (Note NoneStaged), or the repository has none (Note
// none).
func (e *Env) start(ctx context.Context, match func(path string) bool, none string) (files []string, res Result, done bool, err error) {
	files, err = e.files(ctx, match)
	if err != nil {
		return nil, res, true, err
	}
	res.Files = len(files)
	if len(files) > 0 {
		return files, res, false, nil
	}
	res.Note = none
	if e.Files != nil {
		res.Note = NoneStaged
	}
	return files, res, true, nil
}

// scanFindings returns a finding for each line of out that re matches,
// made by found from the submatches.
func scanFindings(out string, re *regexp.Regexp, found func(m []string) Finding) []Finding {
	var fs []Finding
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			fs = append(fs, found(m))
		}
	}
	return fs
}

// staged reports whether path is among Env.Files (always, when Env.Files
// is nil).
func (e *Env) staged(path string) bool {
	return e.Files == nil || slices.Contains(e.Files, path)
}

// anyStaged reports whether one of paths is among Env.Files (always, when
// Env.Files is nil).
func (e *Env) anyStaged(paths []string) bool {
	return e.Files == nil || slices.ContainsFunc(paths, e.staged)
}

// hasExt returns a match of files whose name ends with one of exts.
func hasExt(exts ...string) func(string) bool {
	return func(path string) bool {
		return slices.ContainsFunc(exts, func(ext string) bool { return strings.HasSuffix(path, ext) })
	}
}

// output is what a command printed and how it exited.
type output struct {
	stdout, stderr string
	code           int
}

// run runs command (looked up with tool) with args in dir (relative to
// Env.Root) with env added to the environment. A command that does not
// start or is killed is an error; an exit status is not.
func (e *Env) run(ctx context.Context, dir string, env []string, command string, args ...string) (output, error) {
	bin, err := e.tool(command)
	if err != nil {
		return output{}, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Join(e.Root, dir)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	o := output{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		o.code = exit.ExitCode()
	default:
		return o, fmt.Errorf("run %s %s in %s: %w: %s", command, strings.Join(args, " "), cmd.Dir, err, strings.TrimSpace(o.stderr))
	}
	return o, nil
}

// silentFailure is the error of a tool that exited with a non-zero status
// but reported no finding lint could read.
func silentFailure(command string, o output) error {
	return fmt.Errorf("%s exited with status %d and reported nothing lint can read: %s", command, o.code, strings.TrimSpace(o.stdout+"\n"+o.stderr))
}
