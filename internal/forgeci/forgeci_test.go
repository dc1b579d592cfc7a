package forgeci_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/internal/forgeci"
	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/magerun"
	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
)

const root = "../.."

type step struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

type workflow struct {
	Jobs map[string]struct {
		RunsOn    string                 `yaml:"runs-on"`
		Container struct{ Image string } `yaml:"container"`
		Env       map[string]string      `yaml:"env"`
		Steps     []step                 `yaml:"steps"`
	} `yaml:"jobs"`
}

// oneLine folds whitespace runs to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestWorkflow parses .forgejo/workflows/ci.yaml: one job on the docker
// label runs go run mage.go test with CI=true after caching the tool cache
// (keyed by homelab.yaml and the tools modules' go.sum) and the chart
// mirror ~/.cache/infra-charts (keyed by homelab.yaml), which INFRA_TEST_CHARTS
// names for the later steps and charts:mirror fills on a miss; it uses only
// the actions Forgejo mirrors, and each mage command is a target with flags
// it takes.
func TestWorkflow(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, forgeci.Workflow))
	require.NoError(t, err)
	var wf workflow
	require.NoError(t, yaml.Unmarshal(data, &wf))
	require.Len(t, wf.Jobs, 1)
	job, ok := wf.Jobs["test"]
	require.True(t, ok, "the job is called test")
	require.Equal(t, "docker", job.RunsOn)
	require.NotEmpty(t, job.Container.Image)
	require.Equal(t, "true", job.Env["CI"], "the suite runs as in CI: a missing tool is a failure")

	require.NotEmpty(t, job.Steps)
	require.True(t, strings.HasPrefix(job.Steps[0].Uses, "actions/checkout@"), "the clone comes first")
	last := job.Steps[len(job.Steps)-1]
	require.Equal(t, "go run mage.go test", last.Run, "the last step is the suite")

	caches := map[string]step{}
	var exportAt, mirror, mirrorAt, testAt = -1, -1, -1, len(job.Steps) - 1
	for i, s := range job.Steps {
		if s.Uses != "" {
			name, version, ok := strings.Cut(s.Uses, "@")
			require.True(t, ok, "%s: pinned to a version", s.Uses)
			require.NotEmpty(t, version)
			require.Contains(t, forgeci.Actions, name, "%s: an action Forgejo resolves by name (no URL of another forge)", s.Uses)
		}
		if strings.HasPrefix(s.Uses, "actions/cache@") {
			caches[oneLine(s.With["path"])] = s
		}
		if strings.Contains(s.Run, "charts:mirror") {
			mirrorAt = i
			require.Equal(t, `go run mage.go charts:mirror "$INFRA_TEST_CHARTS"`, s.Run)
			require.Equal(t, "steps.charts.outputs.cache-hit != 'true'", s.If, "the mirror is downloaded on a cache miss only")
		}
		if s.ID == "charts" {
			mirror = i
		}
		if strings.Contains(s.Run, kubetest.EnvCharts+"=") {
			exportAt = i
			require.Equal(t, `echo "`+kubetest.EnvCharts+`=$HOME/.cache/infra-charts" >>"$GITHUB_ENV"`, s.Run, "the later steps and the tests read the cached chart mirror")
		}
	}
	tools, ok := caches["~/.cache/infra-tools"]
	require.True(t, ok, "the tool cache is cached: %v", caches)
	require.Contains(t, oneLine(tools.With["key"]), "${{ hashFiles('homelab.yaml', 'internal/toolchain/modules/**/go.sum') }}")
	charts, ok := caches["~/.cache/infra-charts"]
	require.True(t, ok, "the chart mirror is cached")
	require.Equal(t, "charts", charts.ID)
	require.Equal(t, "infra-charts-${{ hashFiles('homelab.yaml') }}", charts.With["key"])
	gocache, ok := caches["~/.cache/go-build ~/go/pkg/mod ~/.magefile"]
	require.True(t, ok, "Go's build and module caches are cached")
	require.Contains(t, gocache.With["key"], "hashFiles('go.sum'")
	require.True(t, exportAt >= 0 && exportAt < mirrorAt && mirror >= 0 && mirror < mirrorAt && mirrorAt < testAt, "the variable and the cache, then the mirror, then the suite")

	// Every mage command in the workflow is a target with flags it takes.
	targets, err := magerun.LoadTargets("go", filepath.Join(root, "magefiles"))
	require.NoError(t, err)
	for _, s := range job.Steps {
		for _, line := range strings.Split(s.Run, "\n") {
			rest, ok := strings.CutPrefix(strings.TrimSpace(line), magerun.Command+" ")
			if !ok {
				continue
			}
			args := strings.Fields(strings.ReplaceAll(rest, `"`, ""))
			require.NoError(t, targets.Check(args), line)
		}
	}
}

// finding is one actionlint finding, as -format '{{json .}}' prints it.
type finding struct {
	File string `json:"filepath"`
	Line int    `json:"line"`
	Kind string `json:"kind"`
	Msg  string `json:"message"`
}

// actionlint runs the tool-cache actionlint with args in the repository's
// top folder and returns its findings and exit status.
func actionlint(t *testing.T, args ...string) ([]finding, int) {
	t.Helper()
	tool, err := testsuite.GoTool(filepath.Join(root, "homelab.yaml"), "actionlint")
	require.NoError(t, err)
	bin := testtool.RequireGoTool(t, tool)
	testtool.Require(t, "shellcheck") // actionlint checks run: scripts with it
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err, stderr.String())
	}
	var out []finding
	if s := strings.TrimSpace(stdout.String()); s != "" {
		require.NoError(t, json.Unmarshal([]byte(s), &out), "actionlint's output: %s\n%s", s, stderr.String())
	}
	return out, code
}

// TestActionlint runs the real actionlint (built into the tool cache from
// the Go module proxy) on the workflow with the Forgejo runner labels:
// no finding; without them, the docker label is unknown to it.
func TestActionlint(t *testing.T) {
	got, code := actionlint(t, forgeci.ActionlintArgs(forgeci.Workflow)...)
	require.Empty(t, got)
	require.Equal(t, 0, code)

	got, code = actionlint(t, "-format", "{{json .}}", forgeci.Workflow)
	require.Equal(t, 1, code)
	require.Len(t, got, 1)
	require.Equal(t, "runner-label", got[0].Kind)
	require.Contains(t, got[0].Msg, `label "docker" is unknown`)
}

// TestActionlintRefusesABadWorkflow: a known-bad workflow gets each
// finding at its line with its rule, and a non-zero exit status.
func TestActionlintRefusesABadWorkflow(t *testing.T) {
	bad := "internal/forgeci/testdata/bad/ci.yaml"
	got, code := actionlint(t, forgeci.ActionlintArgs(bad)...)
	require.Equal(t, 1, code, "actionlint exits 1 on findings")
	type spot struct {
		File string
		Line int
		Kind string
	}
	var spots []spot
	for _, f := range got {
		spots = append(spots, spot{f.File, f.Line, f.Kind})
	}
	require.Equal(t, []spot{
		{bad, 10, "runner-label"},
		{bad, 13, "expression"},
		{bad, 15, "syntax-check"},
	}, spots)
	require.Regexp(t, regexp.MustCompile(`label "dokcer" is unknown`), got[0].Msg)
	require.Contains(t, got[1].Msg, `property "nope" is not defined`)
}
