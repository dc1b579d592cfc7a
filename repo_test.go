package infra_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// commands returns the non-comment shell commands of the first fenced code
// block in a Markdown text.
func commands(markdown string) []string {
	_, rest, _ := strings.Cut(markdown, "```bash\n")
	block, _, _ := strings.Cut(rest, "```")
	var out []string
	for line := range strings.Lines(block) {
		cmd, _, _ := strings.Cut(line, "#")
		if cmd = strings.TrimSpace(cmd); cmd != "" {
			out = append(out, cmd)
		}
	}
	return out
}

func TestReadmeOpensWithTheTwoCommands(t *testing.T) {
	got := commands(readFile(t, "README.md"))
	require.Equal(t, []string{"go run mage.go demo", "go run mage.go test"}, got)

	// .ci/run runs exactly the README's test command, and nothing else.
	var run []string
	for line := range strings.Lines(readFile(t, ".ci/run")) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "set ") && !strings.HasPrefix(line, "cd ") {
			run = append(run, line)
		}
	}
	require.Equal(t, []string{"exec " + got[1]}, run)
	info, err := os.Stat(".ci/run")
	require.NoError(t, err)
	require.NotZero(t, info.Mode()&0o111, ".ci/run must be executable")
}

var (
	placeholder = regexp.MustCompile(`(?i)\b(TODO|TBD|FIXME|XXX|lorem ipsum|coming soon)\b`)
	mdLink      = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
)

func TestDocsTree(t *testing.T) {
	for _, section := range []string{"getting-started", "deployment", "services", "operations", "reference"} {
		pages, err := filepath.Glob(filepath.Join("docs", section, "*.md"))
		require.NoError(t, err)
		require.NotEmpty(t, pages, "docs/%s has no page", section)
		for _, page := range pages {
			text := readFile(t, page)
			require.GreaterOrEqual(t, len(strings.Fields(text)), 150, "%s is too thin to be real content", page)
			require.False(t, placeholder.MatchString(text), "%s holds a placeholder: %q", page, placeholder.FindString(text))
		}
	}
}

func TestMarkdownLinksResolve(t *testing.T) {
	pages := []string{"README.md", "secrets/README.md"}
	require.NoError(t, filepath.WalkDir("docs", func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".md") {
			pages = append(pages, path)
		}
		return err
	}))
	for _, page := range pages {
		for _, m := range mdLink.FindAllStringSubmatch(readFile(t, page), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			_, err := os.Stat(filepath.Join(filepath.Dir(page), target))
			require.NoError(t, err, "%s links to %s, which does not exist", page, target)
		}
	}
}

func TestEnvrcExportsNamesWithoutValues(t *testing.T) {
	text := readFile(t, ".envrc")
	require.Contains(t, text, "\nuse nix\n")
	var exported []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(line, "export "); ok {
			require.NotContains(t, name, "=", ".envrc must not hold values: %q", line)
			exported = append(exported, strings.Fields(name)...)
		}
	}
	for _, name := range []string{"INFRA_INVENTORY", "PROXMOX_URL", "PROXMOX_TOKEN_ID", "PROXMOX_TOKEN_SECRET", "PROXMOX_USER", "PROXMOX_TOKEN", "PROXMOX_CA_FILE", "PROXMOX_TLS_FINGERPRINT", "PROXMOX_TLS_INSECURE", "INFRA_NET_TIMEOUTS", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY", "INFRA_TOOLS_CACHE", "INFRA_TALOS_ENDPOINTS", "TALOSCONFIG", "KUBECONFIG"} {
		require.Contains(t, exported, name)
	}
	require.Contains(t, readFile(t, ".gitignore"), ".envrc.local", "the values file .envrc loads must be gitignored")
}

type sopsRule struct {
	PathRegex      string `yaml:"path_regex"`
	EncryptedRegex string `yaml:"encrypted_regex"`
	KeyGroups      []struct {
		Age []string `yaml:"age"`
	} `yaml:"key_groups"`
}

func TestSopsCreationRules(t *testing.T) {
	var conf struct {
		Keys          []string   `yaml:"keys"`
		CreationRules []sopsRule `yaml:"creation_rules"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(readFile(t, ".sops.yaml")), &conf))
	age := regexp.MustCompile(`^age1[02-9ac-hj-np-z]{58}$`)
	for _, k := range conf.Keys {
		require.Regexp(t, age, k)
	}

	// first returns the rule sops would use: the first whose path_regex matches.
	first := func(path string) *sopsRule {
		for i := range conf.CreationRules {
			if regexp.MustCompile(conf.CreationRules[i].PathRegex).MatchString(path) {
				return &conf.CreationRules[i]
			}
		}
		return nil
	}
	recipients := func(r *sopsRule) []string {
		var out []string
		for _, g := range r.KeyGroups {
			out = append(out, g.Age...)
		}
		return out
	}
	admin, cluster := conf.Keys[0], conf.Keys[1]

	talos := first("secrets/talos-secrets.enc.yaml")
	require.NotNil(t, talos)
	require.Empty(t, talos.EncryptedRegex, "the Talos bundle is encrypted whole")
	require.Equal(t, []string{admin}, recipients(talos))

	for _, path := range []string{"kubernetes/apps/forgejo/secret.enc.yaml", "/home/u/infra/kubernetes/flux/sops-age.enc.yaml"} {
		k8s := first(path)
		require.NotNil(t, k8s, path)
		require.Equal(t, "^(data|stringData)$", k8s.EncryptedRegex, path)
		require.Equal(t, []string{admin, cluster}, recipients(k8s), path)
	}

	generic := first("secrets/proxmox.enc.yaml")
	require.NotNil(t, generic)
	require.NotSame(t, talos, generic)
	require.Empty(t, generic.EncryptedRegex)
	require.Equal(t, []string{admin}, recipients(generic))

	for _, path := range []string{"secrets/proxmox.yaml", "homelab.yaml", "kubernetes/apps/x/deployment.yaml", "secrets/nested/x.enc.yaml"} {
		require.Nil(t, first(path), "%s must match no creation rule", path)
	}
}

func TestGitignore(t *testing.T) {
	ignored := gitIgnored(t)
	for _, path := range []string{
		"terraform/talos/terraform.tfstate", "terraform/talos/terraform.tfstate.backup", "terraform/talos/.terraform/providers",
		"terraform/modules/proxmox-vm/.terraform.lock.hcl", "terraform/talos/.terraform.lock.hcl",
		"terraform/traditional-vms/terraform.tfstate", "terraform/traditional-vms/terraform.tfstate.backup",
		"terraform/traditional-vms/.terraform/providers", "terraform/traditional-vms/.terraform.lock.hcl", "terraform/talos/cores.tfplan",
		"kubeconfig", "talos/generated/controlplane.yaml", "talosconfig", "_out/talosconfig",
		"secrets/proxmox.dec.yaml", "keys.txt", "cluster.agekey", ".envrc.local", "packer/ubuntu/packer_cache/x.iso",
		"talos/generated/talos-cp-01.yaml", "talos/generated/talosconfig", "talos/generated/kubeconfig", "talos/generated/support.zip", ".env",
		".mage/0123456789ab/config.go",
	} {
		require.True(t, ignored(path), "%s must be gitignored", path)
	}
	for _, path := range []string{"homelab.yaml", "secrets/proxmox.enc.yaml", "secrets/talos-secrets.enc.yaml", ".sops.yaml",
		"kubernetes/apps/x/secret.enc.yaml", ".envrc", "talos/patches/global/10-cni-none.yaml", ".secrets-allow"} {
		require.False(t, ignored(path), "%s must not be gitignored", path)
	}
}

// shellTools are the tools shell.nix must provide, with their nixpkgs names.
var shellTools = map[string]string{
	"go": "go_1_26", "mage": "mage", "terraform": "terraform", "packer": "packer", "ansible": "ansible",
	"ansible-lint": "ansible-lint", "yamllint": "yamllint", "tflint": "tflint", "trivy": "trivy",
	"terraform-docs": "terraform-docs", "talosctl": "talosctl", "kubectl": "kubectl", "helm": "kubernetes-helm",
	"sops": "sops", "age": "age", "k9s": "k9s", "flux": "fluxcd", "pre-commit": "pre-commit",
}

// nixConfig gives Nix what evaluation needs and nothing of the machine's:
// no build-users group (Debian's nix-bin defaults to "nixbld", which a fresh
// machine lacks, and Nix then warns on every call) and a store that writes
// nothing, since evaluating must not build or copy anything.
const nixConfig = "build-users-group =\nstore = dummy://"

// nixEval evaluates expr with the real Nix evaluator and returns its JSON on
// stdout; whatever Nix says on stderr is kept for the failure message only.
func nixEval(t *testing.T, expr string) string {
	t.Helper()
	nix := testtool.Require(t, "nix-instantiate")
	cmd := exec.Command(nix, "--eval", "--strict", "--json", "-E", expr)
	cmd.Env = append(os.Environ(), "NIX_CONFIG="+nixConfig)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "nix-instantiate --eval %s:\n%s", expr, stderr.String())
	return string(out)
}

// TestShellNixProvidesTheToolchain evaluates shell.nix with the real Nix
// evaluator against a stand-in package set (nixpkgs cannot be fetched here):
// it proves the file is valid Nix and names every tool, and only real
// attributes of the stand-in.
func TestShellNixProvidesTheToolchain(t *testing.T) {
	var attrs []string
	for _, a := range shellTools {
		attrs = append(attrs, `"`+a+`"`)
	}
	slices.Sort(attrs)
	expr := `let
	  names = [ ` + strings.Join(attrs, " ") + ` "npins" ];
	  stub = builtins.listToAttrs (map (n: { name = n; value = n; }) names) // { mkShellNoCC = args: args; };
	  shell = import ./shell.nix { pkgs = stub; sources = { }; };
	in { packages = shell.packages; hook = shell.shellHook; }`
	var got struct {
		Packages []string `json:"packages"`
		Hook     string   `json:"hook"`
	}
	require.NoError(t, json.Unmarshal([]byte(nixEval(t, expr)), &got))
	for tool, attr := range shellTools {
		require.Contains(t, got.Packages, attr, "shell.nix must provide %s", tool)
	}
	require.Contains(t, got.Hook, "GOTOOLCHAIN=local")
}

func TestNpinsPinsNixpkgs(t *testing.T) {
	var sources struct {
		Version int `json:"version"`
		Pins    map[string]struct {
			Type     string `json:"type"`
			Revision string `json:"revision"`
			URL      string `json:"url"`
			Hash     string `json:"hash"`
		} `json:"pins"`
	}
	require.NoError(t, json.Unmarshal([]byte(readFile(t, "npins/sources.json")), &sources))
	pin, ok := sources.Pins["nixpkgs"]
	require.True(t, ok, "npins/sources.json must pin nixpkgs")
	require.Regexp(t, `^[0-9a-f]{40}$`, pin.Revision)
	require.Contains(t, pin.URL, pin.Revision, "the tarball URL must be the pinned revision")
	require.Regexp(t, `^sha256-[A-Za-z0-9+/]{43}=$`, pin.Hash)

	// The loader exposes the pin's metadata without fetching anything.
	got := nixEval(t, `let s = import ./npins; in { rev = s.nixpkgs.revision; url = s.nixpkgs.url; }`)
	require.JSONEq(t, `{"rev":"`+pin.Revision+`","url":"`+pin.URL+`"}`, got)
}

// mage runs `go run mage.go args...` from the repository root and returns its
// combined output and exit code.
func mage(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return mageEnv(t, nil, args...)
}

// mageEnv is mage with extra environment variables.
func mageEnv(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", append([]string{"run", "mage.go"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	require.NoError(t, err, "go run mage.go %s:\n%s", strings.Join(args, " "), out)
	return string(out), 0
}

func TestMageListsEveryTargetWithADescription(t *testing.T) {
	out, code := mage(t, "-l")
	require.Equal(t, 0, code, out)
	for _, target := range []string{"config:check", "config:show", "test", "fuzz", "secrets:keygen", "secrets:encrypt",
		"secrets:decrypt", "secrets:edit", "secrets:updatekeys", "secrets:rotate", "secrets:check", "secrets:hook"} {
		require.Regexp(t, `(?m)^  `+regexp.QuoteMeta(target)+` +\S.{10,}$`, out, "target %s needs a one-line description", target)
	}
	// The whole first line of a doc comment is the summary: Mage's own list
	// cut this one at "(e.g.".
	require.Regexp(t, `(?m)^  ansible:run +runs PLAYBOOK, such as day1_all_vms, against the VMs of homelab.yaml; -check -diff shows what would change.$`, out)
	require.NotRegexp(t, `(^|[^.])\bmage [a-z-]`, strings.ReplaceAll(out, "go run mage.go", ""), "the runner is spelt as the README teaches")

	help, code := mage(t, "-h", "talos:apply")
	require.Equal(t, 0, code, help)
	require.Contains(t, help, "\tgo run mage.go talos:apply [<flags>]\n")
	require.Contains(t, help, "-dryrun=<bool>")

	// Every target has its section in the targets reference, which
	// internal/docgen generates (go run mage.go docs).
	doc := readFile(t, "docs/reference/targets.md")
	listed := regexp.MustCompile(`(?m)^  ([a-z]+(?::[a-z]+)?) `).FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, listed)
	for _, m := range listed {
		require.Regexp(t, "(?m)^### `"+regexp.QuoteMeta(m[1])+"`$", doc, "docs/reference/targets.md documents %s", m[1])
	}
}

func TestConfigTargets(t *testing.T) {
	out, code := mage(t, "config:check")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "homelab.yaml is valid: 13 addresses, 17 VM IDs, 1 Talos node(s), 5 VMs (2 enabled)")

	broken := "lib/inventory/testdata/invalid/several-problems.yaml"
	out, code = mage(t, "config:check", "-file="+broken)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, broken+" has 3 problem(s):")
	require.Contains(t, out, broken+":37: talos.nodes[0].ip: 10.0.0.5 is outside network 192.168.1.0/24")

	// A badly broken file: the count is the total, the list the first 50.
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	data := readFile(t, "lib/inventory/testdata/valid/minimal.yaml")
	for i := range 60 {
		data += fmt.Sprintf("key%02d: 1\n", i)
	}
	require.NoError(t, os.WriteFile(huge, []byte(data), 0o600))
	out, code = mage(t, "config:check", "-file="+huge)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, huge+" has 60 problem(s):")
	require.Contains(t, out, huge+":103: key49: unknown field")
	require.NotContains(t, out, "key50")
	require.Contains(t, out, "\n... and 10 more problem(s)")

	out, code = mage(t, "config:show", "--json")
	require.Equal(t, 0, code, out)
	var inv struct {
		Talos struct {
			Nodes []struct {
				IP string `json:"ip"`
			} `json:"nodes"`
		} `json:"talos"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &inv), out)
	require.Equal(t, "10.10.2.10", inv.Talos.Nodes[0].IP)

	out, code = mage(t, "config:show")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^10\.10\.2\.10 +talos-cp-01 +talos-node +infrastructure +talos\.nodes\[0\]\.ip$`, out)
	require.Contains(t, out, "Memory planned for Talos nodes and enabled VMs: 40 GiB of 76 GiB")
}

// TestTerraformReadsWhatTheToolsRead decodes homelab.yaml with Terraform's
// own yamldecode and compares the result with the inventory as lib/inventory
// loads it: the same keys, the same values, the same types (a quoted "24.04"
// stays a string for both).
func TestTerraformReadsWhatTheToolsRead(t *testing.T) {
	terraform := testtool.Require(t, "terraform")
	abs, err := filepath.Abs(inventory.DefaultFile)
	require.NoError(t, err)
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	require.NoError(t, os.WriteFile(rc, nil, 0o600))

	cmd := exec.CommandContext(t.Context(), terraform, "console")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1")
	cmd.Stdin = strings.NewReader(`jsonencode(yamldecode(file("` + abs + `")))` + "\n")
	out, err := cmd.Output()
	require.NoError(t, err, "terraform console: %s", out)
	var fromTerraform string
	require.NoError(t, json.Unmarshal(out, &fromTerraform), "terraform console printed %s", out)

	inv, err := inventory.Load(abs)
	require.NoError(t, err)
	var ours strings.Builder
	require.NoError(t, inv.WriteJSON(&ours))
	require.JSONEq(t, ours.String(), fromTerraform)
}

// TestPreflightTarget runs `proxmox:preflight` against simulated hosts shaped
// like homelab.yaml: ready, fresh (import off, no GPU mapping), a token
// missing privileges, and a planned VM ID held by someone else.
func TestPreflightTarget(t *testing.T) {
	inv, err := inventory.Load(inventory.DefaultFile)
	require.NoError(t, err)
	limited := pvesim.SetupFor(inv, true)
	limited.Tokens = []pvesim.Token{{ID: "infra@pve!limited", Secret: "limited-secret", ACL: []pvesim.ACL{{Path: "/", Role: "PVEAuditor", Propagate: true}}}}
	taken := pvesim.SetupFor(inv, true)
	taken.VMs = []pvesim.VMSetup{{VMID: 9102, Name: "hand-made"}}
	tests := []struct {
		name  string
		setup pvesim.Setup
		code  int
		want  []string
	}{
		{"ready host", pvesim.SetupFor(inv, true), 0, []string{"preflight: the host is ready"}},
		{"fresh host", pvesim.SetupFor(inv, false), 1, []string{
			"FAIL storage local holds import\n  fix: Datacenter → Storage → local → Edit → Content: add Import",
			"FAIL PCI mapping rtx4000", "preflight: 2 check(s) failed"}},
		{"token without privileges", limited, 1, []string{
			"FAIL privileges on /storage/local", "token infra@pve!limited", "pveum acl modify /storage --tokens 'infra@pve!limited' --roles InfraProvisioner"}},
		{"VM ID taken", taken, 1, []string{
			`FAIL VM ID 9102`, `held by "hand-made"`, "change images.ubuntu.template_id in homelab.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, err := pvesim.New(pvesim.WithSetup(tt.setup))
			require.NoError(t, err)
			defer sim.Close()
			id, secret := sim.Token()
			out, code := mageEnv(t, []string{
				proxmox.EnvURL + "=" + sim.URL(), proxmox.EnvTokenID + "=" + id, proxmox.EnvTokenSecret + "=" + secret,
				proxmox.EnvTLSFingerprint + "=" + sim.Fingerprint(), proxmox.EnvUser + "=", proxmox.EnvToken + "=",
			}, "proxmox:preflight")
			require.Equal(t, tt.code, code, out)
			for _, w := range tt.want {
				require.Contains(t, out, w)
			}
			require.NotContains(t, out, secret, "the token secret never reaches the output")
		})
	}
}

// TestPackagesAreDocumented holds every package to the style guide: a doc.go
// saying what the package owns, and a doc comment on every exported
// top-level identifier and method.
func TestPackagesAreDocumented(t *testing.T) {
	var missing []string
	dirs := map[string]bool{}
	for _, root := range []string{"lib", "internal"} {
		require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			dirs[filepath.Dir(path)] = true
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
			require.NoError(t, err)
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if d.Name.IsExported() && d.Doc == nil && (d.Recv == nil || exportedRecv(d.Recv)) {
						missing = append(missing, path+": func "+d.Name.Name)
					}
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						switch s := spec.(type) {
						case *ast.TypeSpec:
							if s.Name.IsExported() && d.Doc == nil && s.Doc == nil {
								missing = append(missing, path+": type "+s.Name.Name)
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
									missing = append(missing, path+": "+n.Name)
								}
							}
						}
					}
				}
			}
			return nil
		}))
	}
	for dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "doc.go")); err != nil {
			missing = append(missing, dir+": no doc.go")
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "document these")
}

func exportedRecv(recv *ast.FieldList) bool {
	typ := recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if idx, ok := typ.(*ast.IndexExpr); ok {
		typ = idx.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}

// TestLibPackagesHaveExamples: each lib package shows its use in at least one
// runnable Example (internal packages and commands excepted).
func TestLibPackagesHaveExamples(t *testing.T) {
	hasExample := map[string]bool{}
	pkgs := map[string]bool{}
	require.NoError(t, filepath.WalkDir("lib", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "internal" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir := filepath.Dir(path)
		pkgs[dir] = true
		if strings.HasSuffix(path, "_test.go") {
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			if regexp.MustCompile(`(?m)^func Example\w*\(\) \{$`).Match(src) && strings.Contains(string(src), "// Output:") {
				hasExample[dir] = true
			}
		}
		return nil
	}))
	for dir := range pkgs {
		require.True(t, hasExample[dir], "%s has no runnable Example (func ExampleX() with // Output:)", dir)
	}
}

// TestDemoTarget is the README's first command, as CI runs it.
func TestDemoTarget(t *testing.T) {
	out, code := mage(t, "demo")
	require.Equal(t, 0, code, out)
	for _, want := range []string{"→ download the image", "100.0% PVE downloads talos-v1.12.7-", "Created the Talos template.",
		"Nothing to do: the template already holds this image.", "requests that could change the host: 0", "installer "} {
		require.Contains(t, out, want)
	}
}

// TestTalosImportTarget runs talos:import through mage against a simulated
// host and a stand-in factory: the dry run, a verified import that writes
// the lock file next to the inventory, and the no-op re-run.
func TestTalosImportTarget(t *testing.T) {
	inv, err := inventory.Load(inventory.DefaultFile)
	require.NoError(t, err)
	h := newImportHost(t, pvesim.SetupFor(inv, false))
	sim, factory, dir, file, env, secret := h.sim, h.factory, h.dir, h.file, h.env, h.secret

	pveMark, factoryMark := len(sim.Requests()), len(factory.Requests())
	out, code := mageEnv(t, env, "talos:import", "--dry-run", "--verify", "-file="+file)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Dry run: nothing was changed.")
	require.Contains(t, out, "POST /nodes/pve/qemu vmid=9000 name=talos-v1-12-7")
	listed := dryRunCalls(out)
	require.NotEmpty(t, listed)
	pveSent, factorySent := mutating(sim, factory, pveMark, factoryMark)
	require.Empty(t, pveSent, "the dry run changed nothing")
	require.Empty(t, factorySent)

	pveMark, factoryMark = len(sim.Requests()), len(factory.Requests())
	out, code = mageEnv(t, env, "talos:import", "--verify", "-file="+file)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Created the Talos template.")
	// The dry run listed what the run sent, in order: to PVE and to the factory.
	var wantPVE, wantFactory []string
	for _, call := range listed {
		method, target, _ := strings.Cut(call, " ")
		if path, ok := strings.CutPrefix(target, factory.URL()); ok {
			wantFactory = append(wantFactory, method+" "+path)
		} else {
			wantPVE = append(wantPVE, call)
		}
	}
	pveSent, factorySent = mutating(sim, factory, pveMark, factoryMark)
	require.Equal(t, wantPVE, pveSent)
	require.Equal(t, wantFactory, factorySent)
	lock, err := images.LoadLockFile(filepath.Join(dir, images.DefaultLockFile))
	require.NoError(t, err)
	schematic, err := talosfactory.SchematicFor(inv).ID()
	require.NoError(t, err)
	_, pinned := lock.Lookup("talos", "v1.12.7", schematic, "nocloud-amd64.qcow2")
	require.True(t, pinned, "the checksum is pinned next to the inventory")

	out, code = mageEnv(t, env, "talos:import", "-file="+file)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Nothing to do")
	require.NotContains(t, out, secret)
}

// dryRunCalls are the "METHOD path" of the calls a talos:import dry run lists.
func dryRunCalls(out string) []string {
	_, list, _ := strings.Cut(out, "A real run would make these calls:\n")
	var calls []string
	for line := range strings.Lines(list) {
		f := strings.Fields(line)
		if !strings.HasPrefix(line, "  ") || len(f) < 2 {
			break
		}
		calls = append(calls, f[0]+" "+f[1])
	}
	return calls
}

// mutating lists the requests that could change something which the
// simulated PVE and the stand-in factory received after the marks.
func mutating(sim *pvesim.Server, factory *factorysim.Server, pveMark, factoryMark int) (pve, fact []string) {
	for _, r := range pvesim.Mutating(sim.Requests()[pveMark:]) {
		pve = append(pve, r.Method+" "+r.Path)
	}
	for _, r := range factory.Requests()[factoryMark:] {
		if !strings.HasPrefix(r, "GET ") && !strings.HasPrefix(r, "HEAD ") {
			fact = append(fact, r)
		}
	}
	return pve, fact
}

// TestCommittedLockFileParses keeps images.lock readable by the tools.
func TestCommittedLockFileParses(t *testing.T) {
	_, err := images.LoadLockFile(images.DefaultLockFile)
	require.NoError(t, err)
}
