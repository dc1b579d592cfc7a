package terraform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/proxmox"
)

// Stack is one of the repository's Terraform root modules.
type Stack string

// The stacks.
const (
	// StackTalos is terraform/talos: the Talos node VMs.
	StackTalos Stack = "talos"
	// StackVMs is terraform/traditional-vms: the traditional VMs.
	StackVMs Stack = "vms"
)

// Stacks returns every stack, in the order they are initialised.
func Stacks() []Stack { return []Stack{StackTalos, StackVMs} }

// Dir is the stack's directory relative to the repository root.
func (s Stack) Dir() string {
	if s == StackVMs {
		return filepath.Join("terraform", "traditional-vms")
	}
	return filepath.Join("terraform", string(s))
}

// UnknownStackError is a stack name that is neither talos nor vms.
type UnknownStackError struct {
	// Name is the name given.
	Name string
}

// Error names the stacks there are.
func (e *UnknownStackError) Error() string {
	return fmt.Sprintf("unknown stack %q: use talos (terraform/talos) or vms (terraform/traditional-vms)", e.Name)
}

// ParseStack reads a stack name: talos or vms.
func ParseStack(name string) (Stack, error) {
	for _, s := range Stacks() {
		if string(s) == name {
			return s, nil
		}
	}
	return "", &UnknownStackError{Name: name}
}

// Option configures a Runner.
type Option func(*options)

type options struct {
	binary    string
	env       map[string]string
	logger    *slog.Logger
	stdout    io.Writer
	stderr    io.Writer
	proxmox   *proxmox.Config
	inventory string
	client    *proxmox.Client
	inv       *inventory.Inventory
	dirs      map[Stack]string
}

// WithBinary runs the binary at path instead of the one found on PATH.
func WithBinary(path string) Option { return func(o *options) { o.binary = path } }

// WithEnv adds variables (KEY=VALUE) to the child's environment, e.g.
// TF_CLI_CONFIG_FILE to install providers from a filesystem mirror.
func WithEnv(kv ...string) Option {
	return func(o *options) {
		for _, e := range kv {
			if k, v, ok := strings.Cut(e, "="); ok {
				o.env[k] = v
			}
		}
	}
}

// WithLogger receives progress (what runs where, which binary); the secret
// is never in it.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithStdout receives terraform's streamed output (stdout and stderr when
// WithStderr is not given).
func WithStdout(w io.Writer) Option { return func(o *options) { o.stdout = w } }

// WithStderr receives terraform's streamed error output.
func WithStderr(w io.Writer) Option { return func(o *options) { o.stderr = w } }

// WithProxmox gives the provider the connection cfg, translated by
// ProviderEnv into the child's environment.
func WithProxmox(cfg proxmox.Config) Option { return func(o *options) { o.proxmox = &cfg } }

// WithInventoryFile sets the stacks' inventory_file variable (made
// absolute); unset, each stack reads its default, the repository's
// homelab.yaml.
func WithInventoryFile(path string) Option { return func(o *options) { o.inventory = path } }

// WithHostCheck checks, before every plan and with read-only calls through
// c, that the host holds what the stack needs from inv: the templates it
// clones, its PCI mappings and a disk storage with images content.
func WithHostCheck(c *proxmox.Client, inv *inventory.Inventory) Option {
	return func(o *options) { o.client, o.inv = c, inv }
}

// WithStackDir runs stack from dir instead of its directory in the
// repository.
func WithStackDir(stack Stack, dir string) Option { return func(o *options) { o.dirs[stack] = dir } }

// Runner runs the stacks of one repository.
type Runner struct {
	root   string
	bin    Binary
	opts   options
	env    map[string]string
	logger *slog.Logger
}

// New finds the binary (WithBinary, else FindBinary from the process's
// environment and PATH), asks its version and returns a Runner of the
// stacks below the repository root.
func New(ctx context.Context, root string, opts ...Option) (*Runner, error) {
	o := options{env: map[string]string{}, dirs: map[Stack]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var bin Binary
	var err error
	if o.binary != "" {
		bin = Binary{Name: filepath.Base(o.binary), Path: o.binary}
	} else if bin, err = FindBinary(os.Getenv, nil); err != nil {
		return nil, err
	}
	extra := map[string]string{"CHECKPOINT_DISABLE": "1"}
	for k, v := range o.env {
		extra[k] = v
	}
	if o.proxmox != nil {
		penv, err := ProviderEnv(*o.proxmox)
		if err != nil {
			return nil, err
		}
		for k, v := range penv {
			extra[k] = v
		}
	}
	if o.inventory != "" {
		if o.inventory, err = filepath.Abs(o.inventory); err != nil {
			return nil, err
		}
	}
	r := &Runner{root: root, bin: bin, opts: o, env: mergeEnv(os.Environ(), extra, tfexec.ProhibitedEnv), logger: logger}
	tf, err := r.tf("")
	if err != nil {
		return nil, err
	}
	tf.SetStdout(io.Discard) // JSON for us, not for the operator's screen
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		return nil, &RunError{Binary: bin, Command: "version", Err: err}
	}
	r.bin.Version = v.String()
	logger.Info("terraform binary", "binary", r.bin.String(), "env", envNames(r.env))
	return r, nil
}

// Binary is the binary the Runner runs, with its version.
func (r *Runner) Binary() Binary { return r.bin }

// StackDir is the directory the stack runs in.
func (r *Runner) StackDir(s Stack) string {
	if d, ok := r.opts.dirs[s]; ok {
		return d
	}
	return filepath.Join(r.root, s.Dir())
}

// RunError is a terraform command that failed.
type RunError struct {
	// Binary ran.
	Binary Binary
	// Stack is the stack, Dir where it ran (empty for version).
	Stack Stack
	Dir   string
	// Command is the terraform subcommand, e.g. "plan".
	Command string
	// Err is terraform-exec's error, with terraform's error output.
	Err error
}

// Error names the command, the stack and the binary.
func (e *RunError) Error() string {
	if e.Stack == "" {
		return fmt.Sprintf("%s %s: %v", e.Binary.Path, e.Command, e.Err)
	}
	return fmt.Sprintf("%s %s of stack %s in %s: %v", e.Binary.Name, e.Command, e.Stack, e.Dir, e.Err)
}

// Unwrap returns terraform-exec's error.
func (e *RunError) Unwrap() error { return e.Err }

func (r *Runner) tf(dir string) (*tfexec.Terraform, error) {
	if dir == "" {
		dir = r.root
	}
	tf, err := tfexec.NewTerraform(dir, r.bin.Path)
	if err != nil {
		return nil, &RunError{Binary: r.bin, Dir: dir, Command: "start", Err: err}
	}
	if err := tf.SetEnv(r.env); err != nil {
		return nil, err
	}
	if r.opts.stdout != nil {
		tf.SetStdout(r.opts.stdout)
		tf.SetStderr(r.opts.stdout)
	}
	if r.opts.stderr != nil {
		tf.SetStderr(r.opts.stderr)
	}
	return tf, nil
}

func (r *Runner) stackTF(s Stack) (*tfexec.Terraform, string, error) {
	dir := r.StackDir(s)
	if _, err := os.Stat(dir); err != nil {
		return nil, dir, fmt.Errorf("stack %s: %w", s, err)
	}
	tf, err := r.tf(dir)
	return tf, dir, err
}

// Init runs terraform init -input=false in the stack's directory.
func (r *Runner) Init(ctx context.Context, s Stack) error {
	tf, dir, err := r.stackTF(s)
	if err != nil {
		return err
	}
	r.logger.Info("terraform init", "stack", s, "dir", dir, "binary", r.bin.Name)
	tf.SetStdout(io.Discard) // its version check's JSON and the progress lines; errors still reach stderr
	if err := tf.Init(ctx); err != nil {
		return &RunError{Binary: r.bin, Stack: s, Dir: dir, Command: "init", Err: err}
	}
	return nil
}

// initOnce runs Init when the stack's directory has no .terraform
// directory: init installs the providers and modules into the stack's
// directory and asks the host nothing. A stack initialised before is left
// as it is (run Init to upgrade it).
func (r *Runner) initOnce(ctx context.Context, s Stack) error {
	_, err := os.Stat(filepath.Join(r.StackDir(s), ".terraform"))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return r.Init(ctx, s)
	default:
		return fmt.Errorf("stack %s: %w", s, err)
	}
}

// ApplyOptions are how Apply and Destroy may change the host.
type ApplyOptions struct {
	// AllowDestroy applies a plan that destroys or replaces VMs.
	AllowDestroy bool
	// DryRun only plans: the result is the plan Apply would apply.
	DryRun bool
	// targets limits the plan to these resource addresses (-target), and
	// check must accept the plan before it is applied (RemoveVMs).
	targets []string
	check   func(Summary) error
}

// Result is what Plan, Apply or Destroy did.
type Result struct {
	// Binary ran.
	Binary Binary
	// Summary is the saved plan's summary.
	Summary Summary
	// Applied is true when the plan was applied.
	Applied bool
}

// Plan plans the stack and summarises the plan; it changes nothing. It is
// Apply with DryRun.
func (r *Runner) Plan(ctx context.Context, s Stack) (Result, error) {
	return r.run(ctx, s, false, ApplyOptions{DryRun: true})
}

// Apply plans the stack into a saved plan file and applies exactly that
// plan, asking nothing. A plan that changes nothing is not applied; one
// that destroys or replaces a VM is refused (*DestroyRefusedError) unless
// opts.AllowDestroy.
func (r *Runner) Apply(ctx context.Context, s Stack, opts ApplyOptions) (Result, error) {
	return r.run(ctx, s, false, opts)
}

// Destroy plans the destruction of every resource of the stack and applies
// that plan; it needs opts.AllowDestroy when the plan removes VMs (it
// always does once they exist). With DryRun it only returns the plan.
func (r *Runner) Destroy(ctx context.Context, s Stack, opts ApplyOptions) (Result, error) {
	return r.run(ctx, s, true, opts)
}

func (r *Runner) run(ctx context.Context, s Stack, destroy bool, opts ApplyOptions) (Result, error) {
	res := Result{Binary: r.bin}
	if err := r.checkHost(ctx, s); err != nil {
		return res, err
	}
	if err := r.initOnce(ctx, s); err != nil {
		return res, err
	}
	tf, dir, err := r.stackTF(s)
	if err != nil {
		return res, err
	}
	tmp, err := os.MkdirTemp("", "infra-tfplan-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)
	planFile := filepath.Join(tmp, string(s)+".tfplan")
	popts := []tfexec.PlanOption{tfexec.Out(planFile), tfexec.Destroy(destroy)}
	if r.opts.inventory != "" {
		popts = append(popts, tfexec.Var("inventory_file="+r.opts.inventory))
	}
	for _, t := range opts.targets {
		popts = append(popts, tfexec.Target(t))
	}
	r.logger.Info("terraform plan", "stack", s, "dir", dir, "destroy", destroy, "binary", r.bin.Name)
	changes, err := tf.Plan(ctx, popts...)
	if err != nil {
		return res, &RunError{Binary: r.bin, Stack: s, Dir: dir, Command: "plan", Err: err}
	}
	tf.SetStdout(io.Discard) // show -json is for the summary, not the screen
	plan, err := tf.ShowPlanFile(ctx, planFile)
	if err != nil {
		return res, &RunError{Binary: r.bin, Stack: s, Dir: dir, Command: "show -json", Err: err}
	}
	res.Summary = summarize(s, destroy, plan)
	r.logger.Info("terraform plan summary", "stack", s, "summary", res.Summary.String())
	if opts.check != nil {
		if err := opts.check(res.Summary); err != nil {
			return res, err
		}
	}
	if opts.DryRun || !changes {
		return res, nil
	}
	if r.opts.stdout != nil {
		tf.SetStdout(r.opts.stdout)
	}
	if vms := res.Summary.VMsRemoved(); len(vms) > 0 && !opts.AllowDestroy {
		return res, &DestroyRefusedError{Stack: s, Resources: vms, Destroy: destroy}
	}
	r.logger.Info("terraform apply", "stack", s, "dir", dir, "binary", r.bin.Name)
	if err := tf.Apply(ctx, tfexec.DirOrPlan(planFile)); err != nil {
		return res, &RunError{Binary: r.bin, Stack: s, Dir: dir, Command: "apply", Err: err}
	}
	res.Applied = true
	return res, nil
}

// Output returns the stack's outputs from its state.
func (r *Runner) Output(ctx context.Context, s Stack) (map[string]Output, error) {
	tf, dir, err := r.stackTF(s)
	if err != nil {
		return nil, err
	}
	tf.SetStdout(io.Discard) // the values are returned, not printed
	meta, err := tf.Output(ctx)
	if err != nil {
		return nil, &RunError{Binary: r.bin, Stack: s, Dir: dir, Command: "output", Err: err}
	}
	out := make(map[string]Output, len(meta))
	for k, m := range meta {
		out[k] = Output{Value: m.Value, Sensitive: m.Sensitive}
	}
	return out, nil
}

// HostCheckError is a host that lacks what a stack needs; nothing was
// planned or changed.
type HostCheckError struct {
	// Stack is the stack.
	Stack Stack
	// Host is the API's host:port.
	Host string
	// Failed are the failed checks, each naming its inventory field.
	Failed []preflight.Check
}

// Error lists each failed check with its field and fix.
func (e *HostCheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s: the host %s does not hold what homelab.yaml asks for (nothing was changed):", e.Stack, e.Host)
	for _, c := range e.Failed {
		field := c.Field
		if field == "" {
			field = c.Name
		}
		fmt.Fprintf(&b, "\n  %s: %s: %s", field, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(&b, " (fix: %s)", c.Fix)
		}
	}
	return b.String()
}

// HostPlan is what the host must hold for a stack: preflight's plan of the
// inventory with the templates the stack clones, and for the vms stack no
// PCI mapping.
func HostPlan(inv *inventory.Inventory, s Stack) preflight.Plan {
	plan := preflight.PlanFor(inv)
	switch s {
	case StackTalos:
		plan.Templates = []preflight.PlannedVM{{ID: inv.Talos.TemplateID, Name: "talos template", Field: "talos.template_id"}}
	case StackVMs:
		plan.PCIMappings, plan.PCIDevices, plan.PCIMappingFields = nil, nil, nil
		seen := map[string]bool{}
		for _, vm := range inv.VMs {
			img, ok := inv.Images[vm.Image]
			if !vm.Enabled || !ok || seen[vm.Image] {
				continue
			}
			seen[vm.Image] = true
			plan.Templates = append(plan.Templates, preflight.PlannedVM{ID: img.TemplateID, Name: vm.Image + " template",
				Field: "images." + vm.Image + ".template_id"})
		}
	}
	return plan
}

func (r *Runner) checkHost(ctx context.Context, s Stack) error {
	if r.opts.client == nil || r.opts.inv == nil {
		return nil
	}
	r.logger.Info("host check", "stack", s, "host", r.opts.client.Addr())
	rep := preflight.Run(ctx, r.opts.client, HostPlan(r.opts.inv, s))
	if rep.OK() {
		return nil
	}
	return &HostCheckError{Stack: s, Host: r.opts.client.Addr(), Failed: rep.Failed()}
}

// IsDestroyRefused reports whether err is a *DestroyRefusedError.
func IsDestroyRefused(err error) bool {
	var d *DestroyRefusedError
	return errors.As(err, &d)
}
