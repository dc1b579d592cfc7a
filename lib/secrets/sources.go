package secrets

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// git runs a git command in dir and returns its standard output.
func git(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// inWorkTree reports whether dir is inside a git work tree.
func inWorkTree(ctx context.Context, dir string) bool {
	out, err := git(ctx, dir, nil, "rev-parse", "--is-inside-work-tree")
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// splitNUL splits NUL-terminated git output.
func splitNUL(out []byte) []string {
	var list []string
	for _, p := range bytes.Split(out, []byte{0}) {
		if len(p) > 0 {
			list = append(list, string(p))
		}
	}
	return list
}

// worktree reads the files git tracks or would track, from the disk; every
// file when root is not in a git work tree.
type worktree struct {
	root string
}

func (w *worktree) files(ctx context.Context) ([]string, error) {
	if inWorkTree(ctx, w.root) {
		out, err := git(ctx, w.root, nil, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
		if err != nil {
			return nil, err
		}
		return splitNUL(out), nil
	}
	var list []string
	err := filepath.WalkDir(w.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(w.root, p)
			if err != nil {
				return err
			}
			list = append(list, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the files under %s: %w", w.root, err)
	}
	return list, nil
}

// read returns a regular file's content, or nil for a file that is gone
// (deleted but not yet staged) or is not a regular file (a symlink).
func (w *worktree) read(_ context.Context, rel string) ([]byte, error) {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil
	}
	return os.ReadFile(p)
}

// gitIndex reads the staged content of every file in the git index.
type gitIndex struct {
	root  string
	blobs map[string][]byte
}

func (g *gitIndex) files(ctx context.Context) ([]string, error) {
	if !inWorkTree(ctx, g.root) {
		return nil, fmt.Errorf("%s is not in a git work tree; the staged check needs one (run the check without staged)", g.root)
	}
	out, err := git(ctx, g.root, nil, "ls-files", "-z", "--stage")
	if err != nil {
		return nil, err
	}
	type entry struct{ path, object string }
	var entries []entry
	for _, rec := range splitNUL(out) {
		// "<mode> <object> <stage>\t<path>"
		meta, p, ok := strings.Cut(rec, "\t")
		fields := strings.Fields(meta)
		if !ok || len(fields) != 3 {
			return nil, fmt.Errorf("git ls-files --stage: unexpected record %q", rec)
		}
		if fields[0] != "100644" && fields[0] != "100755" {
			continue // symlinks and submodules hold no file content
		}
		entries = append(entries, entry{p, fields[1]})
	}
	var req bytes.Buffer
	for _, e := range entries {
		req.WriteString(e.object + "\n")
	}
	out, err = git(ctx, g.root, &req, "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	g.blobs = make(map[string][]byte, len(entries))
	r := bufio.NewReader(bytes.NewReader(out))
	list := make([]string, 0, len(entries))
	for _, e := range entries {
		header, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git cat-file --batch: %w", err)
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			return nil, fmt.Errorf("git cat-file --batch: %s: unexpected header %q", e.path, strings.TrimSpace(header))
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("git cat-file --batch: %s: size %q: %w", e.path, f[2], err)
		}
		blob := make([]byte, size+1) // the content and its trailing newline
		if _, err := io.ReadFull(r, blob); err != nil {
			return nil, fmt.Errorf("git cat-file --batch: %s: %w", e.path, err)
		}
		g.blobs[e.path] = blob[:size]
		list = append(list, e.path)
	}
	return list, nil
}

func (g *gitIndex) read(_ context.Context, rel string) ([]byte, error) {
	return g.blobs[rel], nil
}
