package magerun

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestListShowsEachTargetsWholeSummaryLine(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, fixtureTargets(t).WriteList(&out))
	require.Equal(t, `Fixture targets for internal/magerun's tests.

Targets:
  clean-up    prints cleaned; it is listed under its alias, clean-up.
  hello       prints hello.
  play:run    runs PLAYBOOK, e.g. site, against every host. It prints what it ran.
  wait        sleeps for TIMES rounds of -every (default 1ms).
`, out.String())
}

func TestHelpSpellsTheRunnerAsTheReadmeDoes(t *testing.T) {
	targets := fixtureTargets(t)
	var out bytes.Buffer
	require.NoError(t, targets.WriteHelp(&out, "Play:Run"))
	require.Equal(t, `Run runs PLAYBOOK, e.g. site, against every host. It prints what it ran.

Usage:

	go run mage.go play:run <playbook> [<flags>]

Flags:

	-limit=<string>  only these hosts
	-check=<bool>    change nothing

`, out.String())

	out.Reset()
	require.NoError(t, targets.WriteHelp(&out, "wait"))
	require.Contains(t, out.String(), "\tgo run mage.go wait <times> [-every=<time.Duration>]\n")

	var usage *UsageError
	require.ErrorAs(t, targets.WriteHelp(&out, "nope"), &usage)
}

// inFixture runs Main in a copy of the fixture repository (a module of its
// own) with a private build cache.
func inFixture(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/repo")))
	t.Chdir(dir)
	t.Setenv("MAGEFILE_CACHE", t.TempDir())
	t.Setenv("MAGEFILE_VERBOSE", "")
}

// helloGroup reads the fixture's targets in the current directory and
// returns it, the targets, and the group of the hello target.
func helloGroup(t *testing.T) (string, *Targets, Group) {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	targets, err := LoadTargets("go", filepath.Join(wd, "magefiles"))
	require.NoError(t, err)
	group, err := targets.GroupFor([]string{"hello"})
	require.NoError(t, err)
	return wd, targets, group
}

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

func TestMainExitCodes(t *testing.T) {
	inFixture(t)
	for _, tc := range []struct {
		name         string
		args         []string
		code         int
		stdout, errs string
	}{
		{"runs a target", []string{"hello"}, ExitOK, "hello\n", ""},
		{"runs a target by its alias, without the aliases' file in its build", []string{"clean-up", "hello"}, ExitOK, "cleaned\nhello\n", ""},
		{"runs an aliased target by its own name", []string{"cleanup"}, ExitOK, "cleaned\n", ""},
		{"runs targets in turn, GNU flags allowed", []string{"play:run", "site", "--limit=web", "hello"}, ExitOK,
			"ran site limit=\"web\" check=false\nhello\n", ""},
		{"lists without a target", nil, ExitOK, "Targets:", ""},
		{"lists with -l", []string{"-l"}, ExitOK, "play:run", ""},
		{"explains a target", []string{"-h", "wait"}, ExitOK, "go run mage.go wait <times>", ""},
		{"a bad runner flag", []string{"-x", "hello"}, ExitUsage, "", "flag provided but not defined: -x"},
		{"a stray word is refused before anything runs", []string{"hello", "world"}, ExitUsage, "",
			`Error: "world" after hello is neither one of its arguments nor a target`},
		{"an unknown flag is refused before anything runs", []string{"hello", "play:run", "site", "-dryrun"}, ExitUsage, "",
			`Error: play:run has no flag "-dryrun"`},
		{"a bad value the binary would refuse", []string{"wait", "x"}, ExitUsage, "", `wait: argument <times> "x": not a valid int`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(tc.args...)
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			if tc.stdout == "" {
				require.Empty(t, stdout, "nothing may run")
			} else {
				require.Contains(t, stdout, tc.stdout)
			}
			require.Contains(t, stderr, tc.errs)
		})
	}
}

// Two runs in one checkout used to race on the main file Mage generates in
// magefiles/ while compiling: one run removed it while another compiled.
func TestConcurrentRunsInOneCheckout(t *testing.T) {
	inFixture(t)
	const runs = 8
	var wg sync.WaitGroup
	codes := make([]int, runs)
	outs := make([]string, runs)
	for i := range runs {
		wg.Go(func() {
			var stderr string
			codes[i], outs[i], stderr = run("hello")
			outs[i] += stderr
		})
	}
	wg.Wait()
	for i := range runs {
		require.Equal(t, ExitOK, codes[i], outs[i])
		require.Contains(t, outs[i], "hello\n")
	}
	require.NoFileExists(t, "magefiles/mage_output_file.go", "the generated main file is removed after each build")

	// The cache holds the binary and its lock, and no run's private link.
	cache, err := os.ReadDir(os.Getenv("MAGEFILE_CACHE"))
	require.NoError(t, err)
	var names []string
	for _, e := range cache {
		names = append(names, e.Name())
	}
	wd, _, group := helloGroup(t)
	exe := filepath.Base(Executable(os.Getenv("MAGEFILE_CACHE"), wd, group))
	require.Equal(t, []string{exe, exe + ".lock"}, names)
}

// A binary of this checkout unused for longer than KeepUnused goes, with
// its gathered files; one being built (its lock held) stays, and so do
// other checkouts' binaries.
func TestPruneRemovesBinariesLongUnused(t *testing.T) {
	cache, root := t.TempDir(), t.TempDir()
	old := time.Now().Add(-30 * 24 * time.Hour)
	binary := func(key string, used time.Time) string {
		exe := Executable(cache, root, Group{Key: key})
		require.NoError(t, os.WriteFile(exe, []byte("bin"), 0o700))
		require.NoError(t, os.Chtimes(exe, used, used))
		require.NoError(t, os.MkdirAll(filepath.Join(root, BuildDir, key), 0o755))
		return exe
	}
	stale, recent, busy := binary("aaaaaaaaaaaa", old), binary("bbbbbbbbbbbb", time.Now()), binary("cccccccccccc", old)
	other := Executable(cache, t.TempDir(), Group{Key: "dddddddddddd"})
	require.NoError(t, os.WriteFile(other, []byte("bin"), 0o700))
	require.NoError(t, os.Chtimes(other, old, old))
	unlock, err := tryLock(busy + ".lock")
	require.NoError(t, err)
	defer unlock()

	prune(cache, root, time.Now().Add(-14*24*time.Hour))
	require.NoFileExists(t, stale)
	require.NoDirExists(t, filepath.Join(root, BuildDir, "aaaaaaaaaaaa"))
	require.FileExists(t, recent)
	require.FileExists(t, busy, "a build holds its lock")
	require.DirExists(t, filepath.Join(root, BuildDir, "cccccccccccc"))
	require.FileExists(t, other, "another checkout's binary")
}

// The build's notes and the run after it share stderr: once Build returns,
// no note may still be written (go test -race caught one that was).
func TestBuildNotesStopBeforeBuildReturns(t *testing.T) {
	inFixture(t)
	wd, targets, group := helloGroup(t)
	var notes bytes.Buffer
	_, err := targets.Build(wd, group, BuildOptions{
		CacheDir: os.Getenv("MAGEFILE_CACHE"), Progress: &notes, NoticeAfter: time.Nanosecond, ProgressEvery: time.Millisecond,
	}, io.Discard, io.Discard)
	require.NoError(t, err)
	notes.WriteString("the run writes here now\n") // a race with a late note fails under -race
	require.Contains(t, notes.String(), "building the targets")
}

// TestListDescribesEachTarget gives a reference page what -l and -h say:
// name, usage, summary, the doc without the function's name, arguments and
// flags with their comments.
func TestListDescribesEachTarget(t *testing.T) {
	list := fixtureTargets(t).List()
	require.Len(t, list, 4)
	require.Equal(t, Target{
		Name:    "play:run",
		Usage:   "go run mage.go play:run <playbook> [<flags>]",
		Summary: "runs PLAYBOOK, e.g. site, against every host. It prints what it ran.",
		Doc:     "runs PLAYBOOK, e.g. site, against every host. It prints what it ran.",
		Args:    []string{"playbook"},
		Flags:   []Flag{{Name: "limit", Type: "string", Help: "only these hosts"}, {Name: "check", Type: "bool", Help: "change nothing"}},
	}, list[2])
	require.Equal(t, []Flag{{Name: "every", Type: "time.Duration", Help: "how long one round takes"}}, list[3].Flags)
}
