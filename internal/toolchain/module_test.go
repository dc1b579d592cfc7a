package toolchain_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
)

// pinnedModule writes a tools module whose go.mod holds the given lines
// after its module line, and returns its directory.
func pinnedModule(t *testing.T, lines string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/tools\n\ngo 1.24\n\n"+lines), 0o644))
	return dir
}

// provider is the bpg provider as a tool built from a pinned module.
func provider(moduleDir, version string) toolchain.GoTool {
	return toolchain.GoTool{
		Command: "terraform-provider-proxmox", Module: "github.com/bpg/terraform-provider-proxmox",
		Package: "github.com/bpg/terraform-provider-proxmox", Version: version,
		ModuleDir: moduleDir, TerraformProvider: "registry.terraform.io/bpg/proxmox",
	}
}

func TestProviderPathIsAFilesystemMirror(t *testing.T) {
	require.Equal(t,
		"/c/terraform-provider-proxmox-v0.80.0/registry.terraform.io/bpg/proxmox/0.80.0/"+runtime.GOOS+"_"+runtime.GOARCH+"/terraform-provider-proxmox_v0.80.0",
		provider("", "v0.80.0").Path("/c"))
	require.Equal(t, "/c/terraform-provider-proxmox-v0.80.0", provider("", "v0.80.0").Dir("/c"))
}

func TestEnsureGoBuildsFromAPinnedModule(t *testing.T) {
	testtool.Require(t, "go")
	good := "require github.com/bpg/terraform-provider-proxmox v0.80.0\n"
	tests := []struct {
		name      string
		gomod     string
		build     func(out string) error
		wantCalls int
		wantErr   string
		wantType  any
		env       []string
	}{
		{
			name:      "missing: built in the module into the mirror layout",
			gomod:     good,
			build:     func(out string) error { return os.WriteFile(out, []byte("bin"), 0o755) },
			wantCalls: 1,
		},
		{
			name:      "a build environment reaches go build",
			gomod:     good,
			env:       []string{"GOEXPERIMENT=jsonv2"},
			build:     func(out string) error { return os.WriteFile(out, []byte("bin"), 0o755) },
			wantCalls: 1,
		},
		{
			name:     "go.mod requires another version: refused before building",
			gomod:    "require github.com/bpg/terraform-provider-proxmox v0.79.0\n",
			wantErr:  "go.mod: it requires github.com/bpg/terraform-provider-proxmox v0.79.0, but terraform-provider-proxmox@v0.80.0 is asked for",
			wantType: new(*toolchain.ModuleVersionError),
		},
		{
			name:     "go.mod does not require the tool",
			gomod:    "require golang.org/x/mod v0.25.0\n",
			wantErr:  "it does not require github.com/bpg/terraform-provider-proxmox",
			wantType: new(*toolchain.ModuleVersionError),
		},
		{
			name:     "go.mod replaces the tool: other code would be built",
			gomod:    good + "replace github.com/bpg/terraform-provider-proxmox => ../fork\n",
			wantErr:  "it replaces github.com/bpg/terraform-provider-proxmox",
			wantType: new(*toolchain.ModuleVersionError),
		},
		{
			name:      "build fails: the retry names the module and go build",
			gomod:     good,
			build:     func(string) error { return errors.New("exit status 1") },
			wantCalls: 1,
			wantErr:   `build terraform-provider-proxmox@v0.80.0: exit status 1; retry by hand with: (cd `,
			wantType:  new(*toolchain.BuildError),
		},
		{
			name:      "build yields no binary",
			gomod:     good,
			build:     func(string) error { return nil },
			wantCalls: 1,
			wantErr:   "go build produced no",
			wantType:  new(*toolchain.BuildError),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			mod := pinnedModule(t, tt.gomod)
			tool := provider(mod, "v0.80.0")
			tool.BuildEnv = tt.env
			calls := 0
			err := toolchain.EnsureGo(context.Background(), []toolchain.GoTool{tool},
				toolchain.WithCacheDir(cache),
				toolchain.WithGoInstaller(func(context.Context, string, string) error {
					t.Fatal("a tool with a pinned module is not built with go install")
					return nil
				}),
				toolchain.WithGoBuilder(func(_ context.Context, dir, pkg, out string, env []string, ldflags string) error {
					require.Equal(t, "-s -w", ldflags, "a tool without LDFlags links only -s -w")
					calls++
					require.Equal(t, tt.env, env, "the tool's BuildEnv, no more")
					require.Equal(t, mod, dir)
					require.Equal(t, "github.com/bpg/terraform-provider-proxmox", pkg)
					require.Equal(t, filepath.Base(tool.Path(cache)), filepath.Base(out))
					return tt.build(out)
				}))
			require.Equal(t, tt.wantCalls, calls)
			requireBuildOutcome(t, cache, err, tt.wantErr, tt.wantType, tool.Path(cache))
		})
	}
}

func TestModuleVersionErrorIsNoBuildError(t *testing.T) {
	testtool.Require(t, "go")
	tool := provider(pinnedModule(t, "require github.com/bpg/terraform-provider-proxmox v0.79.0\n"), "v0.80.0")
	err := toolchain.EnsureGo(context.Background(), []toolchain.GoTool{tool}, toolchain.WithCacheDir(t.TempDir()))
	var build *toolchain.BuildError
	require.False(t, errors.As(err, &build), "a go.mod out of step is a defect of the repository, not a tool that may be missing: %v", err)
}

func TestTerraformCLIConfig(t *testing.T) {
	cfg, err := toolchain.TerraformCLIConfig("/cache", []toolchain.GoTool{provider("", "v0.80.0")})
	require.NoError(t, err)
	require.Equal(t, `# Written by internal/toolchain: providers come only from the tool cache.
disable_checkpoint = true

provider_installation {
  filesystem_mirror {
    path    = "/cache/terraform-provider-proxmox-v0.80.0"
    include = ["registry.terraform.io/bpg/proxmox"]
  }
}
`, string(cfg))

	_, err = toolchain.TerraformCLIConfig("/cache", []toolchain.GoTool{{Command: "sops", Version: "v3.13.3"}})
	require.ErrorContains(t, err, "sops@v3.13.3 is not a Terraform provider")
}

// TestTerraformInstallsFromTheMirror runs the real terraform init with the
// CLI configuration, offline: the provider is found in the mirror layout.
func TestTerraformInstallsFromTheMirror(t *testing.T) {
	terraform := testtool.Require(t, "terraform")
	cache, work := t.TempDir(), t.TempDir()
	tool := provider("", "v0.80.0")
	require.NoError(t, os.MkdirAll(filepath.Dir(tool.Path(cache)), 0o755))
	require.NoError(t, os.WriteFile(tool.Path(cache), []byte("#!/bin/sh\nexit 1\n"), 0o755))
	rc := filepath.Join(work, "terraform.rc")
	require.NoError(t, toolchain.WriteTerraformCLIConfig(rc, cache, []toolchain.GoTool{tool}))
	require.NoError(t, os.WriteFile(filepath.Join(work, "main.tf"), []byte(`terraform {
  required_providers {
    proxmox = { source = "bpg/proxmox", version = "~> 0.80" }
  }
}
`), 0o644))
	cmd := exec.Command(terraform, "init", "-input=false", "-no-color")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_DATA_DIR="+filepath.Join(work, ".terraform"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "Installing bpg/proxmox v0.80.0")
}

func TestBuildEnvNeedsAPinnedModule(t *testing.T) {
	tool := toolchain.GoTool{Command: "trivy", Module: "github.com/aquasecurity/trivy", Package: "github.com/aquasecurity/trivy/cmd/trivy",
		Version: "v0.74.0", BuildEnv: []string{"GOEXPERIMENT=jsonv2"}}
	cache := t.TempDir()
	err := toolchain.EnsureGo(context.Background(), []toolchain.GoTool{tool}, toolchain.WithCacheDir(cache),
		toolchain.WithGoInstaller(func(context.Context, string, string) error {
			t.Fatal("go install cannot take the tool's build environment")
			return nil
		}))
	requireBuildOutcome(t, cache, err, "trivy@v0.74.0 has a BuildEnv (GOEXPERIMENT=jsonv2) but no pinned tools module", new(*toolchain.BuildError), "")

	tool.ModuleDir = "/repo/modules/trivy"
	err = &toolchain.BuildError{Tool: tool, Err: errors.New("exit status 1")}
	require.Contains(t, err.Error(), "(cd /repo/modules/trivy && GOEXPERIMENT=jsonv2 go build -mod=readonly",
		"the retry by hand sets the build environment")
}

// kubeAPIServer is kube-apiserver as a tool built from a pinned module,
// with the version variables Kubernetes' release builds set.
func kubeAPIServer(moduleDir, version string) toolchain.GoTool {
	return toolchain.GoTool{
		Command: "kube-apiserver", Module: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-apiserver",
		Version: version, ModuleDir: moduleDir,
		LDFlags: []string{
			"-X k8s.io/component-base/version.gitVersion={version}",
			"-X k8s.io/component-base/version.gitMajor={major}",
			"-X k8s.io/component-base/version.gitMinor={minor}",
		},
	}
}

func TestLinkFlagsComeFromTheVersion(t *testing.T) {
	tests := []struct {
		name    string
		tool    toolchain.GoTool
		want    string
		wantErr string
	}{
		{
			name: "no LDFlags: only the flags every build has",
			tool: provider("", "v0.80.0"),
			want: "-s -w",
		},
		{
			name: "kube-apiserver's version variables from Version",
			tool: kubeAPIServer("", "v1.34.4"),
			want: "-s -w -X k8s.io/component-base/version.gitVersion=v1.34.4 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34",
		},
		{
			name: "a pre-release keeps its suffix in {version} only",
			tool: kubeAPIServer("", "v1.35.0-rc.1"),
			want: "-s -w -X k8s.io/component-base/version.gitVersion=v1.35.0-rc.1 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=35",
		},
		{
			name:    "a version without major.minor cannot fill {major}",
			tool:    kubeAPIServer("", "latest"),
			wantErr: `kube-apiserver@latest: LDFlags "-X k8s.io/component-base/version.gitMajor={major}" needs a version vMAJOR.MINOR.PATCH`,
		},
		{
			name:    "an unknown placeholder is refused, not left in the binary",
			tool:    toolchain.GoTool{Command: "x", Version: "v1.2.3", LDFlags: []string{"-X main.commit={commit}"}},
			wantErr: `x@v1.2.3: LDFlags "-X main.commit={commit}" holds {commit}; known: {version}, {major}, {minor}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.tool.LinkFlags()
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEnsureGoLinksTheVersionFlags(t *testing.T) {
	testtool.Require(t, "go")
	cache := t.TempDir()
	tool := kubeAPIServer(pinnedModule(t, "require k8s.io/kubernetes v1.34.4\n"), "v1.34.4")
	var got string
	err := toolchain.EnsureGo(context.Background(), []toolchain.GoTool{tool}, toolchain.WithCacheDir(cache),
		toolchain.WithGoBuilder(func(_ context.Context, _, _, out string, _ []string, ldflags string) error {
			got = ldflags
			return os.WriteFile(out, []byte("bin"), 0o755)
		}))
	requireBuildOutcome(t, cache, err, "", nil, tool.Path(cache))
	require.Equal(t, "-s -w -X k8s.io/component-base/version.gitVersion=v1.34.4 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34", got)

	err = &toolchain.BuildError{Tool: tool, Err: errors.New("exit status 1")}
	require.Contains(t, err.Error(), `go build -mod=readonly -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v1.34.4 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34" -o <file> k8s.io/kubernetes/cmd/kube-apiserver`,
		"the retry by hand links the same flags")

	tool.ModuleDir = ""
	err = toolchain.EnsureGo(context.Background(), []toolchain.GoTool{tool}, toolchain.WithCacheDir(t.TempDir()),
		toolchain.WithGoInstaller(func(context.Context, string, string) error {
			t.Fatal("go install cannot take the tool's link flags")
			return nil
		}))
	require.ErrorContains(t, err, "kube-apiserver@v1.34.4 has LDFlags but no pinned tools module")
}
