package magerun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func fixtureTargets(t *testing.T) *Targets {
	t.Helper()
	targets, err := LoadTargets("go", filepath.Join("testdata", "repo", "magefiles"))
	require.NoError(t, err)
	return targets
}

func TestCheck(t *testing.T) {
	targets := fixtureTargets(t)
	for _, tc := range []struct {
		name string
		args []string
		err  string // "" when the line is accepted
	}{
		{"one target", []string{"hello"}, ""},
		{"case and namespace", []string{"Play:Run", "site"}, ""},
		{"flags after the argument", []string{"play:run", "site", "-limit=web", "-check"}, ""},
		{"bool flag with a value", []string{"play:run", "site", "-check=false"}, ""},
		{"two targets", []string{"hello", "play:run", "site", "-check", "hello"}, ""},
		{"typed argument and flag", []string{"wait", "3", "-every=2ms"}, ""},

		{"unknown target", []string{"helo"}, `"helo" is not a target (go run mage.go -l lists them)`},
		{"a target's short name", []string{"run"}, `"run" is not a target; did you mean "play:run"?`},
		{"a word after a target", []string{"hello", "world"},
			`"world" after hello is neither one of its arguments nor a target; its usage is: go run mage.go hello (go run mage.go -h hello explains it)`},
		{"a word after flags", []string{"play:run", "site", "-check", "web-01"},
			`"web-01" after play:run is neither one of its arguments nor a target; its usage is: go run mage.go play:run <playbook> [<flags>]`},
		{"missing argument", []string{"play:run"}, "play:run needs 1 argument(s), got 0; its usage is: go run mage.go play:run <playbook> [<flags>]"},
		{"flag before the argument", []string{"play:run", "-check", "site"}, `play:run takes <playbook> before its flags, got "-check"`},
		{"unknown flag", []string{"play:run", "site", "-dryrun"}, `play:run has no flag "-dryrun"; its flags are -limit, -check (go run mage.go -h play:run explains them)`},
		{"flag of a target without flags", []string{"hello", "-v"}, `hello has no flag "-v"; it takes no flags`},
		{"flag without its value", []string{"play:run", "site", "-limit"}, "play:run: flag -limit needs a value: -limit=<string>"},
		{"bad bool", []string{"play:run", "site", "-check=maybe"}, `play:run: flag -check="maybe": not a valid bool`},
		{"bad int argument", []string{"wait", "three"}, `wait: argument <times> "three": not a valid int`},
		{"bad duration flag", []string{"wait", "3", "-every=soon"}, `wait: flag -every="soon": not a valid time.Duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := targets.Check(tc.args)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			var usage *UsageError
			require.ErrorAs(t, err, &usage)
			require.Contains(t, err.Error(), tc.err)
		})
	}
}

// A build in progress in the same checkout has a half-written main file in
// magefiles/; reading the targets must not trip over it.
func TestLoadTargetsIgnoresTheMainFileABuildIsWriting(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "repo", "magefiles"))))
	require.NoError(t, os.WriteFile(filepath.Join(dir, generatedMain), []byte("//go:build ign"), 0o600))
	targets, err := LoadTargets("go", dir)
	require.NoError(t, err)
	require.Equal(t, []string{"clean-up", "hello", "play:run", "wait"}, targets.Names())

	_, err = LoadTargets("go", t.TempDir())
	require.ErrorContains(t, err, "no target files in")
}

func TestGroupForCompilesOnlyWhatTheTargetsNeed(t *testing.T) {
	targets := fixtureTargets(t)
	for _, tc := range []struct {
		args  []string
		files []string
	}{
		{[]string{"hello"}, []string{"hello.go"}},
		{[]string{"play:run", "site", "-check"}, []string{"common.go", "play.go"}},
		{[]string{"wait", "2"}, []string{"hello.go", "wait.go"}}, // Wait calls greet, declared in hello.go
		{[]string{"hello", "play:run", "hello"}, []string{"common.go", "hello.go", "play.go"}},
		{[]string{"clean-up"}, []string{"cleanup.go", "hello.go"}}, // not aliases.go: the binary gets the target's own name
	} {
		g, err := targets.GroupFor(tc.args)
		require.NoError(t, err)
		require.Equal(t, tc.files, g.Files, "%v", tc.args)
		require.Len(t, g.Key, 12)
	}
	a, _ := targets.GroupFor([]string{"hello"})
	b, _ := targets.GroupFor([]string{"hello", "hello"})
	c, _ := targets.GroupFor([]string{"play:run", "x"})
	require.Equal(t, a.Key, b.Key, "the same files share a build")
	require.NotEqual(t, a.Key, c.Key)

	_, err := targets.GroupFor([]string{"hello", "world"})
	var usage *UsageError
	require.ErrorAs(t, err, &usage)

	groups := targets.Groups()
	require.Equal(t, []string{"common.go", "play.go"}, groups["play:run"].Files)
	require.Len(t, groups, 4)
}

// An alias is how a target is listed, documented and named in errors;
// the built binary is handed the target's own name.
func TestAliases(t *testing.T) {
	targets := fixtureTargets(t)
	args, err := targets.Canonical([]string{"clean-up", "hello", "play:run", "clean-up", "-x=1"})
	require.Error(t, err, "Canonical checks the line as Check does")
	require.Nil(t, args)
	args, err = targets.Canonical([]string{"Clean-Up", "play:run", "clean-up", "hello"})
	require.NoError(t, err)
	require.Equal(t, []string{"cleanup", "play:run", "clean-up", "hello"}, args, "play:run's argument is not a target word")
	args, err = targets.Canonical([]string{"clean-up", "hello", "cleanup"})
	require.NoError(t, err)
	require.Equal(t, []string{"cleanup", "hello", "cleanup"}, args)

	require.Contains(t, targets.Names(), "clean-up")
	require.NotContains(t, targets.Names(), "cleanup")
	require.ErrorContains(t, targets.Check([]string{"clean-up", "-v"}), `clean-up has no flag "-v"`)
	var help strings.Builder
	require.NoError(t, targets.WriteHelp(&help, "cleanup"))
	require.Contains(t, help.String(), "go run mage.go clean-up\n")
	require.Equal(t, "clean-up", targets.List()[0].Name)
}

func TestGatherRepairsWhatAnEarlierRunLeft(t *testing.T) {
	targets := fixtureTargets(t)
	g, err := targets.GroupFor([]string{"play:run", "x"})
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), BuildDir, g.Key)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, generatedMain), []byte("package main"), 0o600)) // a killed build's
	require.NoError(t, os.WriteFile(filepath.Join(dir, "play.go"), []byte("// a copy, not a link"), 0o600))
	require.NoError(t, os.Symlink("elsewhere/hello.go", filepath.Join(dir, "hello.go")))

	targets.Dir, err = filepath.Abs(targets.Dir)
	require.NoError(t, err)
	for range 2 { // the second run finds everything in place
		require.NoError(t, targets.gather(dir, g))
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 2)
		for _, f := range g.Files {
			got, err := os.ReadFile(filepath.Join(dir, f))
			require.NoError(t, err)
			want, err := os.ReadFile(filepath.Join(targets.Dir, f))
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s links to the target file", f)
		}
	}
}
