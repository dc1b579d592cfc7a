package tfaccept

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/wdiazux/infra/internal/atomicfile"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// Workspace is a Terraform working directory wired to the tool cache and
// to a simulator's certificate.
type Workspace struct {
	// Terraform is the terraform binary.
	Terraform string
	// Dir is the working directory (the root module).
	Dir string
	// Env is the environment every command gets.
	Env []string
}

// NewWorkspace copies the root module in src (its *.tf files, not
// subdirectories) to dir, writes there the CLI configuration that installs
// providers from their filesystem mirrors in cache and the PEM certificate
// caPEM, and returns the workspace whose commands use both: a provider
// verifies the simulator's TLS certificate against caPEM (SSL_CERT_FILE)
// instead of skipping verification.
func NewWorkspace(terraform, src, dir, cache string, providers []toolchain.GoTool, caPEM []byte) (*Workspace, error) {
	if err := copyModule(src, dir); err != nil {
		return nil, err
	}
	rc, ca, err := WriteClientFiles(dir, cache, providers, caPEM)
	if err != nil {
		return nil, err
	}
	return &Workspace{
		Terraform: terraform,
		Dir:       dir,
		Env: append(os.Environ(),
			"TF_CLI_CONFIG_FILE="+rc,
			"SSL_CERT_FILE="+ca,
			"SSL_CERT_DIR="+filepath.Join(dir, ".no-cert-dir"),
			"TF_IN_AUTOMATION=1",
			"TF_INPUT=0",
			"CHECKPOINT_DISABLE=1",
		),
	}, nil
}

// NewStackWorkspace lays out in dir the files the stack terraform/<stack>
// of the repository at repo reads, at the paths it reads them from: the
// inventory file (inventory.DefaultFile) at the top, every module of
// terraform/modules, and the stack itself, which becomes the workspace's
// directory with the CLI configuration and caPEM (see NewWorkspace). The
// stack's inventory_file default, "../../homelab.yaml", and its module
// sources, "../modules/<name>", then resolve as in the repository.
func NewStackWorkspace(terraform, repo, stack, dir, cache string, providers []toolchain.GoTool, caPEM []byte) (*Workspace, error) {
	data, err := os.ReadFile(filepath.Join(repo, inventory.DefaultFile))
	if err != nil {
		return nil, fmt.Errorf("terraform workspace: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, inventory.DefaultFile), data, 0o644); err != nil {
		return nil, fmt.Errorf("terraform workspace: %w", err)
	}
	if err := copyModules(repo, dir); err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "terraform", stack)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("terraform workspace: %w", err)
	}
	return NewWorkspace(terraform, filepath.Join(repo, "terraform", stack), root, cache, providers, caPEM)
}

// copyModules copies the *.tf files of every module under repo's
// terraform/modules to the same place under dir.
func copyModules(repo, dir string) error {
	modules, err := filepath.Glob(filepath.Join(repo, "terraform", "modules", "*"))
	if err != nil || len(modules) == 0 {
		return fmt.Errorf("terraform workspace: no modules in %s", filepath.Join(repo, "terraform", "modules"))
	}
	for _, m := range modules {
		if err := copyDir(m, filepath.Join(dir, "terraform", "modules", filepath.Base(m))); err != nil {
			return err
		}
	}
	return nil
}

// CopyTerraform copies the Terraform code of the repository at repo —
// the *.tf files of every stack and module, never a state, plan, lock
// file or .terraform directory a checkout may hold — to the same paths
// under dir, so a copy of the inventory at dir's top is what the stacks
// read.
func CopyTerraform(repo, dir string) error {
	if err := copyModules(repo, dir); err != nil {
		return err
	}
	stacks, err := filepath.Glob(filepath.Join(repo, "terraform", "*", "*.tf"))
	if err != nil {
		return fmt.Errorf("terraform workspace: %w", err)
	}
	done := map[string]bool{}
	for _, f := range stacks {
		stack := filepath.Dir(f)
		if done[stack] {
			continue
		}
		done[stack] = true
		if err := copyDir(stack, filepath.Join(dir, "terraform", filepath.Base(stack))); err != nil {
			return err
		}
	}
	return nil
}

// copyDir is copyModule into a directory it creates.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("terraform workspace: %w", err)
	}
	return copyModule(src, dst)
}

// WriteClientFiles writes into dir what a terraform run against a
// simulator needs besides the code: the CLI configuration that installs
// providers only from their filesystem mirrors in cache (.terraformrc) and
// the simulator's PEM CA certificate caPEM (.ca.pem). It returns both
// paths.
func WriteClientFiles(dir, cache string, providers []toolchain.GoTool, caPEM []byte) (rc, ca string, err error) {
	rc = filepath.Join(dir, ".terraformrc")
	if err := toolchain.WriteTerraformCLIConfig(rc, cache, providers); err != nil {
		return "", "", fmt.Errorf("terraform workspace: %w", err)
	}
	ca = filepath.Join(dir, ".ca.pem")
	if err := atomicfile.Write(ca, caPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("terraform workspace: %w", err)
	}
	return rc, ca, nil
}

// AddModule copies the module in src (its *.tf files) to modules/name in
// the workspace, where a root module's block reaches it as
// source = "./modules/name".
func (w *Workspace) AddModule(name, src string) error {
	dir := filepath.Join(w.Dir, "modules", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("terraform workspace: %w", err)
	}
	return copyModule(src, dir)
}

// copyModule copies the *.tf files of the module in src to dir.
func copyModule(src, dir string) error {
	tfs, err := filepath.Glob(filepath.Join(src, "*.tf"))
	if err != nil || len(tfs) == 0 {
		return fmt.Errorf("terraform workspace: no *.tf files in %s", src)
	}
	for _, f := range tfs {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("terraform workspace: %w", err)
		}
		if err := atomicfile.Write(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			return fmt.Errorf("terraform workspace: %w", err)
		}
	}
	return nil
}

// RunError is a terraform command that exited with an unexpected status.
type RunError struct {
	// Args are the command's arguments.
	Args []string
	// Dir is the working directory.
	Dir string
	// ExitCode is the exit status (-1 when it did not start or was killed).
	ExitCode int
	// Output is what it printed, stdout and stderr together.
	Output string
}

// Error names the command, where it ran, its status and its output.
func (e *RunError) Error() string {
	return fmt.Sprintf("terraform %s in %s exited with status %d:\n%s", strings.Join(e.Args, " "), e.Dir, e.ExitCode, e.Output)
}

// Run runs terraform with args in the workspace, without colour, and
// returns its output and exit status. A status other than 0 or one of ok
// is a *RunError.
func (w *Workspace) Run(ctx context.Context, args []string, ok ...int) (string, int, error) {
	args = append(args, "-no-color")
	cmd := exec.CommandContext(ctx, w.Terraform, args...)
	cmd.Dir, cmd.Env = w.Dir, w.Env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return out.String(), -1, &RunError{Args: args, Dir: w.Dir, ExitCode: -1, Output: out.String() + err.Error()}
		}
		code = exit.ExitCode()
	}
	if code != 0 && !slices.Contains(ok, code) {
		return out.String(), code, &RunError{Args: args, Dir: w.Dir, ExitCode: code, Output: out.String()}
	}
	return out.String(), code, nil
}

// Init runs terraform init; providers come from the tool cache only.
func (w *Workspace) Init(ctx context.Context) (string, error) {
	out, _, err := w.Run(ctx, []string{"init", "-input=false"})
	return out, err
}

// Apply runs terraform apply -auto-approve with the variables file.
func (w *Workspace) Apply(ctx context.Context, varFile string) (string, error) {
	out, _, err := w.Run(ctx, []string{"apply", "-input=false", "-auto-approve", "-var-file=" + varFile})
	return out, err
}

// Plan runs terraform plan -detailed-exitcode with the variables file and
// reports whether it plans any change (exit status 2).
func (w *Workspace) Plan(ctx context.Context, varFile string) (changes bool, out string, err error) {
	out, code, err := w.Run(ctx, []string{"plan", "-input=false", "-detailed-exitcode", "-var-file=" + varFile}, 2)
	return code == 2, out, err
}

// Destroy runs terraform destroy -auto-approve with the variables file.
func (w *Workspace) Destroy(ctx context.Context, varFile string) (string, error) {
	out, _, err := w.Run(ctx, []string{"destroy", "-input=false", "-auto-approve", "-var-file=" + varFile})
	return out, err
}

// Outputs runs terraform output -json and returns each output's value as
// JSON.
func (w *Workspace) Outputs(ctx context.Context) (map[string]json.RawMessage, error) {
	out, _, err := w.Run(ctx, []string{"output", "-json"})
	if err != nil {
		return nil, err
	}
	var outputs map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal([]byte(out), &outputs); err != nil {
		return nil, fmt.Errorf("terraform output -json in %s: %w", w.Dir, err)
	}
	values := make(map[string]json.RawMessage, len(outputs))
	for k, v := range outputs {
		values[k] = v.Value
	}
	return values, nil
}

// WriteVars writes a terraform variables file (JSON, *.tfvars.json) in the
// workspace and returns its name.
func (w *Workspace) WriteVars(name string, data []byte) (string, error) {
	if !strings.HasSuffix(name, ".tfvars.json") {
		return "", fmt.Errorf("terraform variables file %s: the name must end in .tfvars.json", name)
	}
	if err := atomicfile.Write(filepath.Join(w.Dir, name), data, 0o600); err != nil {
		return "", fmt.Errorf("terraform variables file: %w", err)
	}
	return name, nil
}

// Expected is an error answer a run may provoke, because a real host gives
// the same answer to the same request.
type Expected struct {
	// Method and Path (a regular expression matched against the whole path
	// below /api2/json) name the request.
	Method string
	Path   *regexp.Regexp
	// Status is the HTTP status expected.
	Status int
	// Why says why a real host answers so and why the client asks.
	Why string
}

// AgentWhileBooting is the error answer bpg's polling of the guest agent
// gets while a started or rebooted VM's guest boots.
func AgentWhileBooting(vmid int) Expected {
	return vmError(http.MethodGet, vmid, "agent/network-get-interfaces", "after a start or a reboot bpg polls the agent for the VM's addresses until it answers; "+
		"until qemu-ga runs in the guest, qemu-server's agent call (PVE::QemuServer::Agent, "+
		"assert_agent_available and the guest-ping it sends) dies with \"QEMU guest agent is not running\" (500)")
}

// EFIDiskMoveToSameStorage is the error answer bpg's move of a clone's
// efidisk0 gets when its efi_disk block names the storage the disk is on.
func EFIDiskMoveToSameStorage(vmid int) Expected {
	return vmError(http.MethodPost, vmid, "move_disk", "after a clone bpg asks to move efidisk0 to its efi_disk block's datastore_id whatever storage "+
		"the disk is on; qemu-server's move_vm_disk ($load_and_check_move) dies with \"you can't move to "+
		"the same storage with same format\" (500) before its task, which bpg takes as success")
}

// StatusAfterDestroy is the error answer bpg's destroy gets once the VM is
// gone.
func StatusAfterDestroy(vmid int) Expected {
	return vmError(http.MethodGet, vmid, "status/current", "bpg's destroy polls status/current until it fails, which is how it learns the VM is gone; "+
		"qemu-server's vm_status loads the config, which dies with \"Configuration file "+
		"'nodes/<node>/qemu-server/<vmid>.conf' does not exist\" (500)")
}

// Unexpected returns the requests of the log answered with an error (a
// status of 400 or more, or 0 for a reset connection) that no entry of
// expected matches. A 501, a request the simulator does not implement, is
// always unexpected: an entry cannot allow it.
func Unexpected(log []pvesim.Request, expected []Expected) []pvesim.Request {
	var out []pvesim.Request
	for _, r := range log {
		if r.Status != 0 && r.Status < 400 {
			continue
		}
		allowed := false
		for _, e := range expected {
			if r.Status != 501 && e.Method == r.Method && e.Status == r.Status && wholeMatch(e.Path, r.Path) {
				allowed = true
				break
			}
		}
		if !allowed {
			out = append(out, r)
		}
	}
	return out
}

// wholeMatch reports whether re matches all of s, not a part of it.
func wholeMatch(re *regexp.Regexp, s string) bool {
	loc := re.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}

// FormatRequests renders requests one a line, "METHOD PATH params -> status",
// for a failure message.
func FormatRequests(reqs []pvesim.Request) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "%s %s %v -> %d\n", r.Method, r.Path, r.Params, r.Status)
	}
	return b.String()
}

// vmError is a 500 answer to method on one endpoint below the VM vmid.
func vmError(method string, vmid int, endpoint, why string) Expected {
	return Expected{
		Method: method,
		Path:   regexp.MustCompile(fmt.Sprintf(`/nodes/[^/]+/qemu/%d/%s`, vmid, regexp.QuoteMeta(endpoint))),
		Status: http.StatusInternalServerError,
		Why:    why,
	}
}
