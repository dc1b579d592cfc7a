package magerun

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/magefile/mage/mage"
)

// BuildOptions say how the targets are built.
type BuildOptions struct {
	// GoCmd is the go command (default "go").
	GoCmd string
	// CacheDir holds the built binary and its lock (Mage's cache directory).
	CacheDir string
	// Progress receives a note when building takes longer than a moment,
	// and when another run holds the lock.
	Progress io.Writer
	// NoticeAfter is how long a build runs before the note (default 2s);
	// ProgressEvery is how often the note repeats (default 30s).
	NoticeAfter, ProgressEvery time.Duration
	// KeepUnused is how long a binary of this checkout may go unused before
	// a build removes it (default 14 days).
	KeepUnused time.Duration
}

// ErrBuild is returned when the targets do not compile; the compiler's
// messages have gone to the build's stderr.
var ErrBuild = errors.New("the targets in magefiles/ do not compile (the compiler's messages are above)")

// BuildDir is the directory, inside the checkout, where a group's files
// are gathered (as links to magefiles/) for compiling: Go resolves the
// module's imports only for files inside the module. It is gitignored.
const BuildDir = ".mage"

// Executable is where a group of the targets of the checkout at root is
// built: one binary per checkout and group, so checkouts never rebuild each
// other's and groups never replace each other's.
func Executable(cacheDir, root string, g Group) string {
	exe := filepath.Join(cacheDir, checkoutPrefix(root)+g.Key)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	return exe
}

// checkoutPrefix starts the name of every binary of the checkout at root.
func checkoutPrefix(root string) string {
	sum := sha256.Sum256([]byte(root))
	return fmt.Sprintf("infra-%x-", sum[:6])
}

// Build brings the binary of group g up to date and returns its path. The
// Go build cache decides whether anything is stale, so a build with nothing
// changed only checks. Mage writes a generated main file beside the files it
// compiles, so builds of one group in one checkout take turns through a lock
// file beside the binary; other groups build at the same time. Running
// needs no lock: see Run.Exec.
func (t *Targets) Build(root string, g Group, o BuildOptions, stdout, stderr io.Writer) (string, error) {
	if o.GoCmd == "" {
		o.GoCmd = "go"
	}
	if o.NoticeAfter == 0 {
		o.NoticeAfter = 2 * time.Second
	}
	if o.ProgressEvery == 0 {
		o.ProgressEvery = 30 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if err := os.MkdirAll(o.CacheDir, 0o700); err != nil {
		return "", fmt.Errorf("create the build cache %s: %w", o.CacheDir, err)
	}
	exe := Executable(o.CacheDir, root, g)
	unlock, err := lock(exe+".lock", func() {
		fmt.Fprintf(o.Progress, "waiting for another %s in this checkout to finish building the targets…\n", Command)
	})
	if err != nil {
		return "", err
	}
	defer unlock()

	dir := filepath.Join(root, BuildDir, g.Key)
	if err := t.gather(dir, g); err != nil {
		return "", err
	}
	// The notes go to the same writer as the run that follows: wait for
	// the note writer to stop before returning.
	done, stopped := make(chan struct{}), make(chan struct{})
	defer func() { close(done); <-stopped }()
	go func() { defer close(stopped); notify(done, o) }()
	code := mage.Invoke(mage.Invocation{
		Dir:        dir,
		WorkDir:    root,
		GoCmd:      o.GoCmd,
		CacheDir:   o.CacheDir,
		CompileOut: exe,
		Ldflags:    "-s -w",
		Stdout:     stdout,
		Stderr:     stderr,
	})
	if code != 0 {
		return "", ErrBuild
	}
	// Mark the binary used, for prune.
	now := time.Now()
	if err := os.Chtimes(exe, now, now); err != nil {
		return "", fmt.Errorf("mark %s used: %w", exe, err)
	}
	prune(o.CacheDir, root, now.Add(-o.unusedFor()))
	return exe, nil
}

// unusedFor is how long a group's binary may go unused before prune
// removes it.
func (o BuildOptions) unusedFor() time.Duration {
	if o.KeepUnused > 0 {
		return o.KeepUnused
	}
	return 14 * 24 * time.Hour
}

// prune removes this checkout's binaries last used before cutoff, with
// their gathered files: a group whose files changed gets a new binary, and
// the old one would otherwise stay forever. A binary whose lock is held is
// being built and stays. The empty lock files stay too: removing one could
// let two runs lock two different files of the same name. Pruning is
// housekeeping: what it cannot remove stays for the next run.
func prune(cacheDir, root string, cutoff time.Time) {
	prefix := checkoutPrefix(root)
	entries, err := os.ReadDir(cacheDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		key, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || strings.Contains(key, ".") {
			continue
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue
		}
		exe := filepath.Join(cacheDir, e.Name())
		unlock, err := tryLock(exe + ".lock")
		if err != nil {
			continue
		}
		os.Remove(exe)
		os.RemoveAll(filepath.Join(root, BuildDir, key))
		unlock()
	}
}

// gather makes dir hold exactly a link to each of g's files in the
// magefiles directory, repairing whatever an earlier run left: a stale
// link, a foreign file, the main file of a build that was killed.
func (t *Targets) gather(dir string, g Group) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	rel, err := filepath.Rel(dir, t.Dir)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, f := range g.Files {
		want[f] = filepath.Join(rel, f)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if target, err := os.Readlink(path); err == nil && target == want[e.Name()] {
			delete(want, e.Name())
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("clean %s: %w", dir, err)
		}
	}
	for f, target := range want {
		if err := os.Symlink(target, filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("link %s into %s: %w", f, dir, err)
		}
	}
	return nil
}

// notify tells a person why nothing happens while the targets compile.
func notify(done <-chan struct{}, o BuildOptions) {
	start := time.Now()
	first := time.NewTimer(o.NoticeAfter)
	defer first.Stop()
	select {
	case <-done:
		return
	case <-first.C:
	}
	fmt.Fprintf(o.Progress, "building the targets: after a change this takes seconds; the first build compiles every dependency and takes minutes…\n")
	tick := time.NewTicker(o.ProgressEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			fmt.Fprintf(o.Progress, "still building the targets (%s)…\n", time.Since(start).Round(time.Second))
		}
	}
}
