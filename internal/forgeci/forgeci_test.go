package forgeci_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/internal/forgeci"
	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/lint"
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

// actionlint runs internal/lint's actionlint step (the tool-cache
// actionlint) over root; a missing tool skips outside CI and fails in CI.
func actionlint(t *testing.T, root string) lint.Result {
	t.Helper()
	tool, err := testsuite.GoTool(filepath.Join(repoRoot(t), "homelab.yaml"), "actionlint")
	require.NoError(t, err)
	bin := testtool.RequireGoTool(t, tool)
	testtool.Require(t, "shellcheck") // actionlint checks run: scripts with it
	res, err := lint.Actionlint().Run(t.Context(), &lint.Env{Root: root, Tools: map[string]string{"actionlint": bin}, Out: io.Discard})
	require.NoError(t, err)
	return res
}

// repoRoot is the repository's top folder, absolute.
func repoRoot(t *testing.T) string {
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	return abs
}

// TestActionlint runs the real actionlint (built into the tool cache from
// the Go module proxy) on the workflow with the Forgejo runner labels of
// forgeci.ActionlintConfig: no finding; without them, the docker label is
// unknown to it and it exits 1.
func TestActionlint(t *testing.T) {
	res := actionlint(t, repoRoot(t))
	require.Equal(t, 1, res.Files)
	require.Empty(t, res.Findings)
	require.Equal(t, 0, res.Exit)

	bare := t.TempDir()
	wf, err := os.ReadFile(filepath.Join(root, forgeci.Workflow))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(bare, forgeci.WorkflowDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bare, forgeci.Workflow), wf, 0o644))
	runGit(t, bare, "init", "-q")
	runGit(t, bare, "add", ".")
	res = actionlint(t, bare)
	require.Equal(t, 1, res.Exit)
	require.Len(t, res.Findings, 1)
	require.Equal(t, "runner-label", res.Findings[0].Rule)
	require.Contains(t, res.Findings[0].Message, `label "docker" is unknown`)
}

// runGit runs git in dir.
func runGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	out, err := exec.Command(testtool.Require(t, "git"), append([]string{"-C", dir}, args...)...).CombinedOutput()
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
}
