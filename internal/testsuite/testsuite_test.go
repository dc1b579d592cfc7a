package testsuite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// recorder is a Runner that records commands and fails the ones asked to.
type recorder struct {
	calls []string
	fail  string
}

func (r *recorder) run(_ context.Context, dir string, _ io.Writer, name string, args ...string) error {
	cmd := name + " " + strings.Join(args, " ")
	r.calls = append(r.calls, cmd)
	if r.fail != "" && strings.Contains(cmd, r.fail) {
		return fmt.Errorf("%s: exit status 1", cmd)
	}
	return nil
}

func TestRun(t *testing.T) {
	missing := &toolchain.MissingError{Tools: []toolchain.Tool{{Command: "nix-instantiate", Debian: "nix-bin"}}, Reason: "no root"}
	goTools, err := testsuite.GoTools(homelab)
	require.NoError(t, err)
	build := &toolchain.BuildError{Tool: goTools[0], Err: errors.New("exit status 1")}
	plugin := &toolchain.PluginError{Plugin: goTools[len(goTools)-1], Err: errors.New("exit status 1")}
	tests := []struct {
		name       string
		ci         bool
		leak       bool
		install    error
		lint       error
		fail       string
		wantFailed []string
	}{
		{name: "all pass"},
		{name: "a missing tool warns outside CI", install: missing},
		{name: "a missing tool fails in CI", ci: true, install: missing, wantFailed: []string{"tools"}},
		{name: "a tool that does not build warns outside CI", install: build},
		{name: "a tool that does not build fails in CI", ci: true, install: build, wantFailed: []string{"tools"}},
		{name: "a Packer plugin that does not install warns outside CI", install: plugin},
		{name: "a Packer plugin that does not install fails in CI", ci: true, install: plugin, wantFailed: []string{"tools"}},
		{name: "a plaintext secret fails the secrets check", leak: true, wantFailed: []string{"secrets"}},
		{name: "failing tests do not stop the summary", fail: "go test", wantFailed: []string{"test"}},
		{name: "failing lint still runs the secrets check and the tests", lint: errors.New("lint failed: vet found 1 problem(s)"), wantFailed: []string{"lint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "a.go"), "package a\n")
			if tt.leak {
				writeFile(t, filepath.Join(root, "secrets", "nas.enc.yaml"), "password: hunter2\n")
			}
			rec := &recorder{fail: tt.fail}
			var order []string
			var out bytes.Buffer
			s := testsuite.New(root, testsuite.WithRunner(rec.run), testsuite.WithOutput(&out), testsuite.WithCI(tt.ci),
				testsuite.WithToolInstaller(func(context.Context) error { order = append(order, "tools"); return tt.install }),
				testsuite.WithLint(func(_ context.Context, w io.Writer) error {
					order = append(order, "lint")
					require.Same(t, &out, w, "lint prints where the suite does")
					return tt.lint
				}))

			err := s.Run(context.Background())

			require.Equal(t, []string{"tools", "lint"}, order, "tools, then lint")
			require.Equal(t, []string{"go test -race -timeout 30m ./..."}, rec.calls, "then the tests, even after lint failed")
			for _, step := range []string{"tools", "lint", "secrets", "test"} {
				require.Contains(t, out.String(), step)
			}
			require.NotContains(t, out.String(), "gofmt", "gofmt and vet are lint's steps now")
			if tt.wantFailed == nil {
				require.NoError(t, err)
				require.NotContains(t, out.String(), "FAIL")
				return
			}
			var stepErr *testsuite.StepError
			require.True(t, errors.As(err, &stepErr), "got %v", err)
			var names []string
			for _, f := range stepErr.Failed {
				names = append(names, f.Step)
			}
			require.Equal(t, tt.wantFailed, names)
			require.Contains(t, out.String(), "FAIL")
		})
	}
}

// TestTheTestStepLeavesOutWhatLintRan: WithLintCovers leaves the tests
// the lint step runs as a whole out of go test (selected by -skip, not
// reported as skipped), and only when there is a lint step.
func TestTheTestStepLeavesOutWhatLintRan(t *testing.T) {
	for name, tt := range map[string]struct {
		lint bool
		want string
	}{
		"with a linter":    {true, "go test -race -timeout 30m -skip ^(TestTheRepositoryIsClean|TestA\\.B)$ ./..."},
		"without a linter": {false, "go test -race -timeout 30m ./..."},
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			opts := []testsuite.Option{testsuite.WithRunner(rec.run), testsuite.WithOutput(io.Discard),
				testsuite.WithToolInstaller(func(context.Context) error { return nil }),
				testsuite.WithLintCovers("TestTheRepositoryIsClean", "TestA.B")}
			if tt.lint {
				opts = append(opts, testsuite.WithLint(func(context.Context, io.Writer) error { return nil }))
			}
			_ = testsuite.New(t.TempDir(), opts...).Run(t.Context())
			require.Contains(t, rec.calls, tt.want)
		})
	}
}

// TestASuiteWithoutALinterFails: the lint step is no silent pass when the
// suite was given no linter.
func TestASuiteWithoutALinterFails(t *testing.T) {
	rec := &recorder{}
	err := testsuite.New(t.TempDir(), testsuite.WithRunner(rec.run), testsuite.WithOutput(io.Discard),
		testsuite.WithToolInstaller(func(context.Context) error { return nil })).Run(context.Background())
	var stepErr *testsuite.StepError
	require.ErrorAs(t, err, &stepErr)
	require.Equal(t, "lint", stepErr.Failed[0].Step)
	require.ErrorContains(t, err, "no linter")
}

// TestEnsureGoToolsInstallsPackerPlugins: the suite's tool step builds
// the tools, then installs the Packer plugins among them with the cached
// packer, once: a second run installs nothing.
func TestEnsureGoToolsInstallsPackerPlugins(t *testing.T) {
	cache := t.TempDir()
	packer := toolchain.GoTool{Command: "packer", Package: "example.com/packer", Version: "v1.12.0"}
	plugin := toolchain.GoTool{Command: "packer-plugin-proxmox", Package: "example.com/packer-plugin-proxmox", Version: "v1.1.0",
		PackerPlugin: "github.com/hashicorp/proxmox"}
	var built, installed []string
	opts := []toolchain.Option{
		toolchain.WithCacheDir(cache),
		toolchain.WithGoInstaller(func(_ context.Context, gobin, pkg string) error {
			built = append(built, pkg)
			return os.WriteFile(filepath.Join(gobin, filepath.Base(strings.Split(pkg, "@")[0])), []byte("bin"), 0o755)
		}),
		toolchain.WithPackerPluginInstaller(func(_ context.Context, req toolchain.PluginInstall) error {
			installed = append(installed, req.Address)
			require.Equal(t, packer.Path(cache), req.Packer, "the cached packer installs it")
			writeFile(t, filepath.Join(req.Dir, "github.com", "hashicorp", "proxmox", "packer-plugin-proxmox_v1.1.0_x5.0_linux_amd64"), "bin")
			writeFile(t, filepath.Join(req.Dir, "github.com", "hashicorp", "proxmox", "packer-plugin-proxmox_v1.1.0_x5.0_linux_amd64_SHA256SUM"), "sum")
			return nil
		}),
	}
	for range 2 {
		require.NoError(t, testsuite.EnsureGoTools(context.Background(), []toolchain.GoTool{packer, plugin}, opts...))
	}
	require.Equal(t, []string{"example.com/packer@v1.12.0", "example.com/packer-plugin-proxmox@v1.1.0"}, built)
	require.Equal(t, []string{"github.com/hashicorp/proxmox"}, installed)

	err := testsuite.EnsureGoTools(context.Background(), []toolchain.GoTool{plugin}, opts...)
	require.ErrorContains(t, err, "need the packer tool among the tools built")
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := &recorder{}
	err := testsuite.New(t.TempDir(), testsuite.WithRunner(rec.run), testsuite.WithOutput(io.Discard),
		testsuite.WithToolInstaller(func(context.Context) error { return nil })).Run(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, rec.calls)
}

func TestFuzzRunsEveryTarget(t *testing.T) {
	rec := &recorder{}
	s := testsuite.New(t.TempDir(), testsuite.WithRunner(rec.run), testsuite.WithOutput(io.Discard))
	require.NoError(t, s.Fuzz(context.Background(), 90*time.Second))
	require.Len(t, rec.calls, len(testsuite.FuzzTargets()))
	require.Equal(t, "go test -run ^$ -fuzz ^FuzzParse$ -fuzztime 1m30s -fuzzminimizetime 5s ./lib/inventory", rec.calls[0])
}

// homelab is the repository's inventory, where tool versions live.
var homelab = filepath.Join("..", "..", inventory.DefaultFile)

func TestGoToolsTakeTheVersionFromTheInventory(t *testing.T) {
	sops := toolchain.GoTool{Command: "sops", Module: "github.com/getsops/sops/v3", Package: "github.com/getsops/sops/v3/cmd/sops"}
	modules := filepath.Join("repo", "internal", "toolchain", "modules")
	bpg := toolchain.GoTool{
		Command: "terraform-provider-proxmox", Module: "github.com/bpg/terraform-provider-proxmox",
		Package:           "github.com/bpg/terraform-provider-proxmox",
		ModuleDir:         filepath.Join(modules, "terraform-provider-proxmox"),
		TerraformProvider: "registry.terraform.io/bpg/proxmox",
	}
	tflint := toolchain.GoTool{
		Command: "tflint", Module: "github.com/terraform-linters/tflint", Package: "github.com/terraform-linters/tflint",
		ModuleDir: filepath.Join(modules, "tflint"),
	}
	trivy := toolchain.GoTool{
		Command: "trivy", Module: "github.com/aquasecurity/trivy", Package: "github.com/aquasecurity/trivy/cmd/trivy",
		ModuleDir: filepath.Join(modules, "trivy"), BuildEnv: []string{"GOEXPERIMENT=jsonv2"},
	}
	kubeAPIServer := toolchain.GoTool{
		Command: "kube-apiserver", Module: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-apiserver",
		ModuleDir: filepath.Join(modules, "kube-apiserver"),
		LDFlags: []string{
			"-X k8s.io/component-base/version.gitVersion={version}",
			"-X k8s.io/component-base/version.gitMajor={major}",
			"-X k8s.io/component-base/version.gitMinor={minor}",
		},
	}
	etcd := toolchain.GoTool{
		Command: "etcd", Module: "go.etcd.io/etcd/server/v3", Package: "go.etcd.io/etcd/server/v3",
		ModuleDir: filepath.Join(modules, "etcd"),
	}
	packer := toolchain.GoTool{
		Command: "packer", Module: "github.com/hashicorp/packer", Package: "github.com/hashicorp/packer",
		ModuleDir: filepath.Join(modules, "packer"),
	}
	packerPlugin := toolchain.GoTool{
		Command: "packer-plugin-proxmox", Module: "github.com/hashicorp/packer-plugin-proxmox",
		Package:   "github.com/hashicorp/packer-plugin-proxmox",
		ModuleDir: filepath.Join(modules, "packer-plugin-proxmox"), PackerPlugin: "github.com/hashicorp/proxmox",
	}
	ansiblePlugin := toolchain.GoTool{
		Command: "packer-plugin-ansible", Module: "github.com/hashicorp/packer-plugin-ansible",
		Package:   "github.com/hashicorp/packer-plugin-ansible",
		ModuleDir: filepath.Join(modules, "packer-plugin-ansible"), PackerPlugin: "github.com/hashicorp/ansible",
	}
	staticcheck := toolchain.GoTool{
		Command: "staticcheck", Module: "honnef.co/go/tools", Package: "honnef.co/go/tools/cmd/staticcheck",
		ModuleDir: filepath.Join(modules, "staticcheck"),
	}
	actionlint := toolchain.GoTool{
		Command: "actionlint", Module: "github.com/rhysd/actionlint", Package: "github.com/rhysd/actionlint/cmd/actionlint",
		ModuleDir: filepath.Join(modules, "actionlint"),
	}
	kubeconform := toolchain.GoTool{
		Command: "kubeconform", Module: "github.com/yannh/kubeconform", Package: "github.com/yannh/kubeconform/cmd/kubeconform",
		ModuleDir: filepath.Join(modules, "kubeconform"),
	}
	linters := map[string]string{"tflint": "0.64.0", "trivy": "v0.74.0", "kube-apiserver": "1.34.4", "etcd": "3.6.16",
		"staticcheck": "0.8.2", "actionlint": "1.7.12", "kubeconform": "0.8.0",
		"packer": "1.12.0", "packer-plugin-proxmox": "1.1.0", "packer-plugin-ansible": "1.1.2"}
	with := func(tools map[string]string) map[string]string {
		out := maps.Clone(linters)
		maps.Copy(out, tools)
		return out
	}
	tests := []struct {
		name     string
		tools    map[string]string
		wantSops string
		wantBpg  string
		wantErr  string
	}{
		{name: "versions without v", tools: with(map[string]string{"terraform": "1.11.4", "sops": "9.9.9", "terraform-provider-proxmox": "0.80.0"}),
			wantSops: "v9.9.9", wantBpg: "v0.80.0"},
		{name: "versions with v", tools: with(map[string]string{"sops": "v3.14.0", "terraform-provider-proxmox": "v0.81.0"}),
			wantSops: "v3.14.0", wantBpg: "v0.81.0"},
		{name: "sops not listed", tools: with(map[string]string{"terraform": "1.11.4", "terraform-provider-proxmox": "0.80.0"}),
			wantErr: "repo/homelab.yaml: tools.sops is missing; add the version of github.com/getsops/sops/v3 that go.mod requires"},
		{name: "the provider not listed", tools: with(map[string]string{"sops": "3.13.3"}),
			wantErr: "repo/homelab.yaml: tools.terraform-provider-proxmox is missing; add the version of github.com/bpg/terraform-provider-proxmox that repo/internal/toolchain/modules/terraform-provider-proxmox/go.mod requires"},
		{name: "tflint not listed", tools: map[string]string{"sops": "3.13.3", "terraform-provider-proxmox": "0.80.0", "trivy": "0.74.0"},
			wantErr: "repo/homelab.yaml: tools.tflint is missing; add the version of github.com/terraform-linters/tflint that repo/internal/toolchain/modules/tflint/go.mod requires"},
		{name: "trivy not listed", tools: map[string]string{"sops": "3.13.3", "terraform-provider-proxmox": "0.80.0", "tflint": "0.64.0"},
			wantErr: "repo/homelab.yaml: tools.trivy is missing; add the version of github.com/aquasecurity/trivy that repo/internal/toolchain/modules/trivy/go.mod requires"},
		{name: "kube-apiserver not listed", tools: map[string]string{"sops": "3.13.3", "terraform-provider-proxmox": "0.80.0", "tflint": "0.64.0", "trivy": "0.74.0"},
			wantErr: "repo/homelab.yaml: tools.kube-apiserver is missing; add the version of k8s.io/kubernetes that repo/internal/toolchain/modules/kube-apiserver/go.mod requires"},
		{name: "etcd not listed", tools: map[string]string{"sops": "3.13.3", "terraform-provider-proxmox": "0.80.0", "tflint": "0.64.0", "trivy": "0.74.0", "kube-apiserver": "1.34.4"},
			wantErr: "repo/homelab.yaml: tools.etcd is missing; add the version of go.etcd.io/etcd/server/v3 that repo/internal/toolchain/modules/etcd/go.mod requires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tools, err := testsuite.GoToolsFrom(filepath.Join("repo", "homelab.yaml"), tt.tools)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, testsuite.ErrToolVersion)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			sops.Version, bpg.Version = tt.wantSops, tt.wantBpg
			tflint.Version, trivy.Version = "v0.64.0", "v0.74.0"
			kubeAPIServer.Version, etcd.Version = "v1.34.4", "v3.6.16"
			staticcheck.Version, actionlint.Version, kubeconform.Version = "v0.8.2", "v1.7.12", "v0.8.0"
			packer.Version, packerPlugin.Version, ansiblePlugin.Version = "v1.12.0", "v1.1.0", "v1.1.2"
			require.Equal(t, []toolchain.GoTool{sops, bpg, tflint, trivy, kubeAPIServer, etcd, staticcheck, actionlint, kubeconform,
				packer, packerPlugin, ansiblePlugin}, tools)
		})
	}

	_, err := testsuite.GoTools(filepath.Join(t.TempDir(), "homelab.yaml"))
	require.ErrorIs(t, err, testsuite.ErrToolVersion, "an inventory that does not load names no version")
}

func TestGoToolFindsOneByCommand(t *testing.T) {
	tool, err := testsuite.GoTool(homelab, "terraform-provider-proxmox")
	require.NoError(t, err)
	require.Equal(t, "registry.terraform.io/bpg/proxmox", tool.TerraformProvider)
	require.DirExists(t, tool.ModuleDir)
	for _, command := range []string{"kube-apiserver", "etcd", "staticcheck", "actionlint", "kubeconform", "packer", "packer-plugin-proxmox", "packer-plugin-ansible"} {
		tool, err := testsuite.GoTool(homelab, command)
		require.NoError(t, err)
		require.DirExists(t, tool.ModuleDir, "%s is built from its pinned tools module", command)
		_, err = tool.LinkFlags()
		require.NoError(t, err)
	}
	plugin, err := testsuite.GoTool(homelab, "packer-plugin-proxmox")
	require.NoError(t, err)
	require.Equal(t, "github.com/hashicorp/proxmox", plugin.PackerPlugin, "installed for Packer after the build")
	_, err = testsuite.GoTool(homelab, "packer-plugin-qemu")
	require.ErrorContains(t, err, `no tool "packer-plugin-qemu" is built from a Go module for the tests`)
}

// TestToolVersionsAgree: a tool built from a module go.mod also requires
// (the sops CLI, whose library lib/secrets links) is built at the version
// go.mod requires, so the CLI the interoperability tests run is the code
// lib/secrets runs; a tool built from a pinned tools module (the bpg
// provider) is built at the version that module's go.mod requires. Bumping
// one of homelab.yaml's tools: and the go.mod without the other fails here.
func TestToolVersionsAgree(t *testing.T) {
	goCmd := testtool.Require(t, "go")
	tools, err := testsuite.GoTools(homelab)
	require.NoError(t, err)
	require.NotEmpty(t, tools)
	for _, tool := range tools {
		if tool.ModuleDir != "" {
			require.NoError(t, tool.CheckModule(context.Background()))
			continue
		}
		out, err := exec.Command(goCmd, "list", "-m", "-json", tool.Module).Output()
		require.NoError(t, err, "go list -m %s", tool.Module)
		var mod struct {
			Version string
			Replace *struct{ Path, Version string }
		}
		require.NoError(t, json.Unmarshal(out, &mod))
		require.Nil(t, mod.Replace, "go.mod replaces %s: go install %s@%s would build other code", tool.Module, tool.Package, tool.Version)
		require.Equal(t, mod.Version, tool.Version, "homelab.yaml tools.%s must be the version of %s that go.mod requires", tool.Command, tool.Module)
	}
}

func TestTheSuiteRefusesAnInventoryWithoutToolVersions(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.go"), "package a\n")
	rec := &recorder{}
	err := testsuite.New(root, testsuite.WithRunner(rec.run), testsuite.WithOutput(io.Discard)).Run(context.Background())
	var stepErr *testsuite.StepError
	require.ErrorAs(t, err, &stepErr)
	require.Equal(t, "tools", stepErr.Failed[0].Step, "outside CI too: it is no missing tool")
	require.ErrorIs(t, err, testsuite.ErrToolVersion)
}
