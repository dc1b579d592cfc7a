package testsuite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
)

// Tools returns the external commands the tests run for real. They are
// installed from Debian packages when missing.
func Tools() []toolchain.Tool {
	return []toolchain.Tool{
		{Command: "nix-instantiate", Debian: "nix-bin"},
		{Command: "qemu-img", Debian: "qemu-utils"},
		{Command: "ansible-playbook", Debian: "ansible"},
		{Command: "ansible-lint", Debian: "ansible-lint"},
		{Command: "yamllint", Debian: "yamllint"},
		{Command: "debootstrap", Debian: "debootstrap"},
		{Command: "xorriso", Debian: "xorriso"}, // Packer builds packer/windows' answer-file CD with it
		{Command: "shellcheck", Debian: "shellcheck"},
		{Command: "npm", Debian: "npm"}, // installs NPMTools
	}
}

// NPMTools returns the commands the tests run that npm installs into the
// tool cache: Renovate's renovate-config-validator, which validates
// renovate.json (internal/versions), at the inventory file's tools.renovate.
// An error wraps ErrToolVersion.
func NPMTools(file string) ([]toolchain.NPMTool, error) {
	inv, err := inventory.Load(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrToolVersion, err)
	}
	v, ok := inv.Tools["renovate"]
	if !ok {
		return nil, fmt.Errorf("%w: %s: tools.renovate is missing; add the version of the npm package renovate that validates renovate.json", ErrToolVersion, file)
	}
	return []toolchain.NPMTool{{Command: "renovate-config-validator", Package: "renovate", Version: strings.TrimPrefix(v, "v")}}, nil
}

// GoTools returns the commands the tests run that are built from the Go
// module proxy into the tool cache: the sops CLI, for the interoperability
// tests of lib/secrets, Terraform's bpg/proxmox provider, for the
// Terraform acceptance test against pvesim (internal/tfaccept) and the
// Terraform static checks (internal/tfcheck), tflint and trivy, the
// linters those checks run, and kube-apiserver and etcd, the Kubernetes
// API server the add-on tests install into (internal/kubetest), staticcheck,
// actionlint and kubeconform, linters internal/lint runs, and Packer
// with its proxmox and ansible plugins, for the template checks and builds of
// lib/packer (the proxmox and ansible plugins installed for Packer by
// EnsureGoTools). Each is
// built at the version the inventory file lists under tools: (the
// repository's homelab.yaml for the suite), the one place every tool's
// version lives; TestToolVersionsAgree holds a tool whose module go.mod
// also requires (sops, linked by lib/secrets) to the version go.mod
// requires, and toolchain.GoTool.CheckModule holds a tool built from a
// pinned tools module (the provider, tflint, trivy, kube-apiserver,
// etcd, staticcheck, actionlint, kubeconform, packer and its plugins, each from
// internal/toolchain/modules/<command>) to the version that module's go.mod
// requires. An error wraps ErrToolVersion.
func GoTools(file string) ([]toolchain.GoTool, error) {
	inv, err := inventory.Load(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrToolVersion, err)
	}
	return goTools(file, inv.Tools)
}

// GoTool returns the one tool of GoTools whose command is command.
func GoTool(file, command string) (toolchain.GoTool, error) {
	tools, err := GoTools(file)
	if err != nil {
		return toolchain.GoTool{}, err
	}
	for _, t := range tools {
		if t.Command == command {
			return t, nil
		}
	}
	return toolchain.GoTool{}, fmt.Errorf("no tool %q is built from a Go module for the tests", command)
}

// ErrToolVersion says the version of a tool built from a Go module could
// not be read from the inventory.
var ErrToolVersion = errors.New("cannot tell which version of the tool to build")

// goModuleTools are the tools GoTools builds, without their versions; a
// ModuleDir is relative to the inventory file's directory.
var goModuleTools = []toolchain.GoTool{
	{Command: "sops", Module: "github.com/getsops/sops/v3", Package: "github.com/getsops/sops/v3/cmd/sops"},
	{
		Command: "terraform-provider-proxmox", Module: "github.com/bpg/terraform-provider-proxmox",
		Package:           "github.com/bpg/terraform-provider-proxmox",
		ModuleDir:         filepath.Join("internal", "toolchain", "modules", "terraform-provider-proxmox"),
		TerraformProvider: "registry.terraform.io/bpg/proxmox",
	},
	{
		Command: "tflint", Module: "github.com/terraform-linters/tflint", Package: "github.com/terraform-linters/tflint",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "tflint"),
	},
	{
		Command: "trivy", Module: "github.com/aquasecurity/trivy", Package: "github.com/aquasecurity/trivy/cmd/trivy",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "trivy"),
		// trivy's code uses encoding/json/v2, still an experiment of Go.
		BuildEnv: []string{"GOEXPERIMENT=jsonv2"},
	},
	{
		Command: "kube-apiserver", Module: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-apiserver",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "kube-apiserver"),
		// Kubernetes' release builds set these; without them the server
		// reports v0.0.0-master and clients (kubectl, Helm's capabilities)
		// cannot parse its version.
		LDFlags: []string{
			"-X k8s.io/component-base/version.gitVersion={version}",
			"-X k8s.io/component-base/version.gitMajor={major}",
			"-X k8s.io/component-base/version.gitMinor={minor}",
		},
	},
	{
		Command: "etcd", Module: "go.etcd.io/etcd/server/v3", Package: "go.etcd.io/etcd/server/v3",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "etcd"),
	},
	{
		Command: "staticcheck", Module: "honnef.co/go/tools", Package: "honnef.co/go/tools/cmd/staticcheck",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "staticcheck"),
	},
	{
		Command: "actionlint", Module: "github.com/rhysd/actionlint", Package: "github.com/rhysd/actionlint/cmd/actionlint",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "actionlint"),
	},
	{
		Command: "kubeconform", Module: "github.com/yannh/kubeconform", Package: "github.com/yannh/kubeconform/cmd/kubeconform",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "kubeconform"),
	},
	{
		Command: "packer", Module: "github.com/hashicorp/packer", Package: "github.com/hashicorp/packer",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "packer"),
	},
	{
		Command: "packer-plugin-proxmox", Module: "github.com/hashicorp/packer-plugin-proxmox",
		Package:   "github.com/hashicorp/packer-plugin-proxmox",
		ModuleDir: filepath.Join("internal", "toolchain", "modules", "packer-plugin-proxmox"),
		// Installed for Packer after the build (toolchain.EnsurePackerPlugins).
		PackerPlugin: "github.com/hashicorp/proxmox",
	},
	{
		Command: "packer-plugin-ansible", Module: "github.com/hashicorp/packer-plugin-ansible",
		Package:      "github.com/hashicorp/packer-plugin-ansible",
		ModuleDir:    filepath.Join("internal", "toolchain", "modules", "packer-plugin-ansible"),
		PackerPlugin: "github.com/hashicorp/ansible",
	},
}

// EnsureGoTools builds the tools of GoTools missing from the tool cache,
// then installs the Packer plugins among them into the cache's plugin
// directory (toolchain.PackerPluginDir) with the cached packer; tools
// already there are left as they are.
func EnsureGoTools(ctx context.Context, tools []toolchain.GoTool, opts ...toolchain.Option) error {
	if err := toolchain.EnsureGo(ctx, tools, opts...); err != nil {
		return err
	}
	var packer *toolchain.GoTool
	var plugins []toolchain.GoTool
	for i, t := range tools {
		switch {
		case t.Command == "packer":
			packer = &tools[i]
		case t.PackerPlugin != "":
			plugins = append(plugins, t)
		}
	}
	if len(plugins) == 0 {
		return nil
	}
	if packer == nil {
		return fmt.Errorf("packer plugins %v need the packer tool among the tools built", plugins)
	}
	return toolchain.EnsurePackerPlugins(ctx, *packer, plugins, opts...)
}

// goTools is GoTools with the inventory's tools: given; file names it in
// errors.
func goTools(file string, versions map[string]string) ([]toolchain.GoTool, error) {
	out := make([]toolchain.GoTool, 0, len(goModuleTools))
	for _, t := range goModuleTools {
		gomod := "go.mod"
		if t.ModuleDir != "" {
			t.ModuleDir = filepath.Join(filepath.Dir(file), t.ModuleDir)
			gomod = filepath.Join(t.ModuleDir, "go.mod")
		}
		v, ok := versions[t.Command]
		if !ok {
			return nil, fmt.Errorf("%w: %s: tools.%s is missing; add the version of %s that %s requires", ErrToolVersion, file, t.Command, t.Module, gomod)
		}
		t.Version = "v" + strings.TrimPrefix(v, "v")
		out = append(out, t)
	}
	return out, nil
}

// FuzzTarget is one Go fuzz test.
type FuzzTarget struct {
	// Package is the package pattern, e.g. "./lib/inventory".
	Package string
	// Name is the fuzz function, e.g. "FuzzParse".
	Name string
}

// FuzzTargets returns the fuzz tests `mage fuzz` runs.
func FuzzTargets() []FuzzTarget {
	return []FuzzTarget{
		{Package: "./lib/inventory", Name: "FuzzParse"},
		{Package: "./lib/proxmox/pve", Name: "FuzzPropertyString"},
	}
}

// Runner runs a command in dir with its output going to out.
type Runner func(ctx context.Context, dir string, out io.Writer, name string, args ...string) error

// Step is one check of the suite.
type Step struct {
	// Name is the short name shown in the summary.
	Name string
	// Run performs the check.
	Run func(ctx context.Context) error
}

// Suite runs the project's checks from the repository root.
type Suite struct {
	root string
	out  io.Writer
	log  *slog.Logger
	run  Runner
	ci   bool
	// ensure installs Tools and builds GoTools; replaced in tests.
	ensure func(ctx context.Context) error
	// linter is the lint step (WithLint).
	linter func(ctx context.Context, out io.Writer) error
	// lintCovers are the Go tests the lint step replaces (WithLintCovers).
	lintCovers []string
}

// Option configures a Suite.
type Option func(*Suite)

// WithOutput sets where command output and the summary go (default: stdout).
func WithOutput(w io.Writer) Option { return func(s *Suite) { s.out = w } }

// WithLogger sets the logger for progress (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Suite) { s.log = l } }

// WithRunner replaces the command runner (default: os/exec).
func WithRunner(r Runner) Option { return func(s *Suite) { s.run = r } }

// WithCI makes a missing tool a failure instead of a warning.
func WithCI(ci bool) Option { return func(s *Suite) { s.ci = ci } }

// WithToolInstaller replaces the installer of Tools and GoTools (default:
// toolchain.Ensure and toolchain.EnsureGo).
func WithToolInstaller(f func(ctx context.Context) error) Option {
	return func(s *Suite) { s.ensure = f }
}

// WithLint sets the lint step: every linter over the repository, its
// findings and summary written to out (the test target passes
// internal/lint's Check, which needs this package's tool list and so
// cannot be imported here). Without it the lint step fails.
func WithLint(f func(ctx context.Context, out io.Writer) error) Option {
	return func(s *Suite) { s.linter = f }
}

// WithLintCovers names Go tests the lint step runs as a whole (e.g.
// internal/lint's RepositoryTest): the test step leaves them out with
// go test -skip, so one run of the suite checks them once. They are not
// reported as skipped: go test does not select them, and the lint step,
// which always runs before, fails where they would.
func WithLintCovers(tests ...string) Option {
	return func(s *Suite) { s.lintCovers = append(s.lintCovers, tests...) }
}

// New returns the suite for the repository at root.
func New(root string, opts ...Option) *Suite {
	s := &Suite{
		root: root,
		out:  os.Stdout,
		log:  slog.New(slog.DiscardHandler),
		run:  execRunner,
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.ensure == nil {
		s.ensure = func(ctx context.Context) error {
			goTools, err := GoTools(filepath.Join(s.root, inventory.DefaultFile))
			if err != nil {
				return err // a defect of the inventory, not a missing tool: it fails outside CI too
			}
			npmTools, err := NPMTools(filepath.Join(s.root, inventory.DefaultFile))
			if err != nil {
				return err
			}
			debian := toolchain.Ensure(ctx, Tools(), toolchain.WithLogger(s.log))
			return errors.Join(debian,
				EnsureGoTools(ctx, goTools, toolchain.WithLogger(s.log)),
				toolchain.EnsureNPM(ctx, npmTools, toolchain.WithLogger(s.log)))
		}
	}
	return s
}

// Steps returns the checks in the order Run runs them.
func (s *Suite) Steps() []Step {
	return []Step{
		{Name: "tools", Run: s.tools},
		{Name: "lint", Run: s.lint},
		{Name: "secrets", Run: s.secrets},
		{Name: "test", Run: s.test},
	}
}

// StepError is returned by Run when checks fail; it names each one.
type StepError struct {
	// Failed maps each failed step to its error, in run order.
	Failed []StepFailure
}

// StepFailure is one failed step.
type StepFailure struct {
	Step string
	Err  error
}

// Error lists the failed steps.
func (e *StepError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = fmt.Sprintf("%s: %v", f.Step, f.Err)
	}
	return "checks failed: " + strings.Join(parts, "; ")
}

// Unwrap returns the step errors.
func (e *StepError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

// Run runs every step, even after a failure, prints a summary table and
// returns a *StepError naming the failed steps.
func (s *Suite) Run(ctx context.Context) error {
	type result struct {
		name string
		err  error
		took time.Duration
	}
	var results []result
	var failed []StepFailure
	for _, step := range s.Steps() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("checks interrupted before %s: %w", step.Name, err)
		}
		s.log.Info("running check", "step", step.Name)
		start := time.Now()
		err := step.Run(ctx)
		results = append(results, result{step.Name, err, time.Since(start)})
		if err != nil {
			s.log.Error("check failed", "step", step.Name, "err", err)
			failed = append(failed, StepFailure{step.Name, err})
		}
	}
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCHECK\tRESULT\tTIME")
	for _, r := range results {
		status := "ok"
		if r.err != nil {
			status = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, status, r.took.Round(100*time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if len(failed) > 0 {
		return &StepError{Failed: failed}
	}
	return nil
}

// tools installs what the tests need. Outside CI a tool that cannot be
// installed or built is a warning: the tests that need it skip.
func (s *Suite) tools(ctx context.Context) error {
	err := s.ensure(ctx)
	var missing *toolchain.MissingError
	var build *toolchain.BuildError
	var plugin *toolchain.PluginError
	var npm *toolchain.NPMError
	if (errors.As(err, &missing) || errors.As(err, &build) || errors.As(err, &plugin) || errors.As(err, &npm)) && !s.ci {
		s.log.Warn("tests that need these tools will skip (in CI they fail)", "err", err)
		return nil
	}
	return err
}

// lint runs the linters (WithLint).
func (s *Suite) lint(ctx context.Context) error {
	if s.linter == nil {
		return errors.New("the suite was given no linter (testsuite.WithLint): nothing checked the code's style and the linters' findings")
	}
	return s.linter(ctx, s.out)
}

// secrets runs the plaintext-secret guard over the repository.
func (s *Suite) secrets(ctx context.Context) error {
	rep, err := secrets.Check(ctx, s.root, secrets.WithLogger(s.log))
	if err != nil {
		return err
	}
	return rep.Err()
}

// testTimeout bounds each test binary. Go's default of 10 minutes is too
// close to what the real Ansible converge can take on a slow Debian mirror
// (debootstrap plus apt installs), and a hung test still fails well inside
// CI's time limit.
const testTimeout = "30m"

func (s *Suite) test(ctx context.Context) error {
	args := []string{"test", "-race", "-timeout", testTimeout}
	if len(s.lintCovers) > 0 && s.linter != nil {
		quoted := make([]string, len(s.lintCovers))
		for i, name := range s.lintCovers {
			quoted[i] = regexp.QuoteMeta(name)
		}
		args = append(args, "-skip", "^("+strings.Join(quoted, "|")+")$")
	}
	return s.run(ctx, s.root, s.out, "go", append(args, "./...")...)
}

// fuzzMinimizeTime bounds how long the fuzzer shrinks each new input. Go's
// default (60s) spends most of a short run minimizing inputs that only add
// coverage, and none of that time counts as executions.
const fuzzMinimizeTime = "5s"

// Fuzz runs every fuzz target for d each.
func (s *Suite) Fuzz(ctx context.Context, d time.Duration) error {
	for _, ft := range FuzzTargets() {
		s.log.Info("fuzzing", "target", ft.Name, "package", ft.Package, "for", d)
		err := s.run(ctx, s.root, s.out, "go", "test", "-run", "^$", "-fuzz", "^"+ft.Name+"$",
			"-fuzztime", d.String(), "-fuzzminimizetime", fuzzMinimizeTime, ft.Package)
		if err != nil {
			return fmt.Errorf("fuzz %s in %s: %w", ft.Name, ft.Package, err)
		}
	}
	return nil
}

// execRunner runs a command with os/exec.
func execRunner(ctx context.Context, dir string, out io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}
