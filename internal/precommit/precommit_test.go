package precommit_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/internal/magerun"
	"github.com/wdiazux/infra/internal/precommit"
)

var update = flag.Bool("update", false, "rewrite .pre-commit-config.yaml from precommit.Hooks")

// root is the repository's top folder.
const root = "../.."

// configFile is .pre-commit-config.yaml as pre-commit reads it.
type configFile struct {
	MinimumVersion string `yaml:"minimum_pre_commit_version"`
	Repos          []struct {
		Repo  string `yaml:"repo"`
		Hooks []struct {
			ID            string   `yaml:"id"`
			Name          string   `yaml:"name"`
			Entry         string   `yaml:"entry"`
			Language      string   `yaml:"language"`
			PassFilenames *bool    `yaml:"pass_filenames"`
			AlwaysRun     bool     `yaml:"always_run"`
			RequireSerial bool     `yaml:"require_serial"`
			Stages        []string `yaml:"stages"`
		} `yaml:"hooks"`
	} `yaml:"repos"`
}

func readConfig(t *testing.T) ([]byte, configFile) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, precommit.ConfigFile))
	require.NoError(t, err)
	var cfg configFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg), "%s is not the pre-commit configuration this test knows", precommit.ConfigFile)
	return data, cfg
}

// TestConfigFileIsTheHookList holds .pre-commit-config.yaml to
// precommit.Hooks: local hooks of the system language, without file names,
// run at commit time, in the same order with the same entries (go test
// ./internal/precommit -update rewrites it).
func TestConfigFileIsTheHookList(t *testing.T) {
	if *update {
		require.NoError(t, os.WriteFile(filepath.Join(root, precommit.ConfigFile), precommit.Config(), 0o644))
	}
	data, cfg := readConfig(t)
	require.Equal(t, string(precommit.Config()), string(data), "%s drifted from precommit.Hooks: run go test ./internal/precommit -update", precommit.ConfigFile)

	require.Equal(t, "3.2.0", cfg.MinimumVersion, "the stage name pre-commit needs 3.2")
	require.Len(t, cfg.Repos, 1)
	require.Equal(t, "local", cfg.Repos[0].Repo)
	var ids []string
	for _, h := range cfg.Repos[0].Hooks {
		ids = append(ids, h.ID)
		require.Equal(t, "system", h.Language, h.ID)
		require.NotNil(t, h.PassFilenames, "%s: pass_filenames is set", h.ID)
		require.False(t, *h.PassFilenames, "%s: the targets find the staged files themselves", h.ID)
		require.True(t, h.AlwaysRun, h.ID)
		require.True(t, h.RequireSerial, h.ID)
		require.Equal(t, []string{"pre-commit"}, h.Stages, h.ID)
		require.NotEmpty(t, h.Name, h.ID)
	}
	require.Equal(t, []string{"secrets", "fmt", "lint"}, ids)
}

// TestHooksAreTargets: each hook's entry runs a target that
// go run mage.go -l lists, with flags that target takes.
func TestHooksAreTargets(t *testing.T) {
	targets, err := magerun.LoadTargets("go", filepath.Join(root, "magefiles"))
	require.NoError(t, err)
	_, cfg := readConfig(t)
	require.NotEmpty(t, cfg.Repos)
	for _, h := range cfg.Repos[0].Hooks {
		args, ok := precommit.TargetArgs(h.Entry)
		require.True(t, ok, "%s: entry %q does not start with %q", h.ID, h.Entry, magerun.Command)
		require.Contains(t, targets.Names(), args[0], "%s: %s is not a target go run mage.go -l lists", h.ID, args[0])
		require.NoError(t, targets.Check(args), "%s: %s", h.ID, h.Entry)
	}
}

// TestGitHookRunsTheConfig: the hook secrets:hook installs runs exactly the
// entries of .pre-commit-config.yaml, in its order, and refuses a commit
// whose formatter changed files as pre-commit does.
func TestGitHookRunsTheConfig(t *testing.T) {
	_, cfg := readConfig(t)
	require.NotEmpty(t, cfg.Repos)
	var entries []string
	for _, h := range cfg.Repos[0].Hooks {
		entries = append(entries, h.Entry)
	}
	hook := precommit.GitHook()
	require.Equal(t, entries, hook.Commands())
	require.Equal(t, "go run mage.go secrets:hook", hook.InstalledBy, "the marker of the hooks installed before")
	var fixes []bool
	for _, s := range hook.Steps {
		fixes = append(fixes, s.Fixes)
	}
	require.Equal(t, []bool{false, true, false}, fixes, "only the formatters rewrite files")
	require.Equal(t, []string{
		"go run mage.go secrets:check -staged",
		"go run mage.go lint -fix -staged -only=gofmt,terraform,packer",
		"go run mage.go lint -staged",
	}, entries)
}

func TestTargetArgs(t *testing.T) {
	tests := []struct {
		entry string
		args  []string
		ok    bool
	}{
		{"go run mage.go lint -staged", []string{"lint", "-staged"}, true},
		{"go run mage.go secrets:check -staged", []string{"secrets:check", "-staged"}, true},
		{"go run mage.go", nil, false},
		{"mage lint", nil, false},
		{"go run mage.golint", nil, false},
	}
	for _, tt := range tests {
		args, ok := precommit.TargetArgs(tt.entry)
		require.Equal(t, tt.ok, ok, tt.entry)
		require.Equal(t, tt.args, args, tt.entry)
	}
}
