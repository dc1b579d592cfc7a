package lint

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
)

// options are what Check runs with.
type options struct {
	fix, staged, build bool
	only               []string
	out                io.Writer
	log                *slog.Logger
	mirror             string
	steps              []Step
}

// Option configures Check.
type Option func(*options)

// WithFix makes the steps with a formatter rewrite the files (Env.Fix).
func WithFix(fix bool) Option { return func(o *options) { o.fix = fix } }

// WithOnly runs only the steps named (Select); none means every step.
func WithOnly(names ...string) Option { return func(o *options) { o.only = names } }

// WithStaged limits the steps to the files staged in git (Env.Files).
func WithStaged(staged bool) Option { return func(o *options) { o.staged = staged } }

// WithBuildTools builds the tools of the tool cache the steps run
// (Step.Tools) that are missing before linting
// (testsuite.EnsureGoTools); without it they are only looked up (the
// test target's tools step has built them).
func WithBuildTools(build bool) Option { return func(o *options) { o.build = build } }

// WithOutput sets where the findings and the summary go (default: stdout).
func WithOutput(w io.Writer) Option { return func(o *options) { o.out = w } }

// WithLogger sets the logger for progress (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithChartMirror sets Env.ChartMirror (default: ChartMirror's choice).
func WithChartMirror(mirror string) Option { return func(o *options) { o.mirror = mirror } }

// ChartMirror is where the add-on charts are rendered from when no mirror
// is given: $INFRA_CHART_MIRROR (helmdeploy.EnvChartMirror) when set, else
// the offline chart repository shared/charts in root or a folder above it
// (the one the tests use, kubetest.ChartsDir), else "" (the charts'
// repositories).
func ChartMirror(root string) string {
	if m := os.Getenv(helmdeploy.EnvChartMirror); m != "" {
		return m
	}
	if dir, ok := kubetest.ChartsDir(root); ok {
		return dir
	}
	return ""
}

// WithSteps replaces the steps Check chooses from (default: Steps()).
func WithSteps(steps ...Step) Option { return func(o *options) { o.steps = steps } }

// RepositoryTest is the Go test that runs the steps over this repository
// (internal/lint's TestTheRepositoryIsClean) for a plain go test. A run
// that has just run Check over the whole repository (the test target's
// lint step) may leave it out: Check fails as it does, on a finding and on
// a step that checked no file.
const RepositoryTest = "TestTheRepositoryIsClean"

// Check lints the repository at root: the tools from the tool cache at
// the versions of root's homelab.yaml (LookupTools), the steps of Steps
// (or WithOnly's), over every file (each step must check at least one:
// Env.RequireFiles) or the staged ones, then Run. It is what the lint
// target and the test target's lint step call.
func Check(ctx context.Context, root string, opts ...Option) error {
	o := options{out: os.Stdout, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.steps == nil {
		o.steps = Steps()
	}
	if o.mirror == "" {
		o.mirror = ChartMirror(root)
	}
	steps, err := Select(o.steps, o.only)
	if err != nil {
		return err
	}
	file := filepath.Join(root, inventory.DefaultFile)
	if o.build {
		if err := buildTools(ctx, file, steps, o.log); err != nil {
			return err
		}
	}
	tools, err := LookupTools(file)
	if err != nil {
		return err
	}
	o.log.Info("add-on charts for the manifest steps", "from", cmp.Or(o.mirror, "the charts' repositories"))
	env := &Env{Root: root, Fix: o.fix, Tools: tools, Inventory: file, ChartMirror: o.mirror, Out: o.out, Log: o.log, RequireFiles: !o.staged}
	if o.staged {
		if env.Files, err = StagedFiles(ctx, root); err != nil {
			return err
		}
		o.log.Info("linting the staged files", "files", strings.Join(env.Files, " "))
	}
	return Run(ctx, env, steps)
}

// LookupTools returns, for every tool built from a Go module into the
// tool cache (testsuite.GoTools, at the versions inventoryFile's tools:
// pins), the command and the binary's path in the cache, built or not
// (a step running a tool not built there fails with ErrToolMissing).
func LookupTools(inventoryFile string) (map[string]string, error) {
	goTools, err := testsuite.GoTools(inventoryFile)
	if err != nil {
		return nil, err
	}
	cache, err := toolchain.CacheDir()
	if err != nil {
		return nil, err
	}
	tools := make(map[string]string, len(goTools))
	for _, t := range goTools {
		tools[t.Command] = t.Path(cache)
	}
	return tools, nil
}

// buildTools builds the tools the steps run (Step.Tools) into the tool
// cache when missing, at the versions of the inventory file.
func buildTools(ctx context.Context, file string, steps []Step, log *slog.Logger) error {
	goTools, err := testsuite.GoTools(file)
	if err != nil {
		return err
	}
	var need []toolchain.GoTool
	for _, t := range goTools {
		if slices.ContainsFunc(steps, func(s Step) bool { return slices.Contains(s.Tools, t.Command) }) {
			need = append(need, t)
		}
	}
	if len(need) == 0 {
		return nil
	}
	if err := testsuite.EnsureGoTools(ctx, need, toolchain.WithLogger(log)); err != nil {
		return fmt.Errorf("build the linters into the tool cache: %w", err)
	}
	return nil
}
