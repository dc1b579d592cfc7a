package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
)

// Step names one step of Up.
type Step string

// The steps of Up, in order.
const (
	StepPreflight  Step = "preflight"
	StepTemplate   Step = "talos template"
	StepRemove     Step = "remove nodes"
	StepNodeVMs    Step = "node VMs"
	StepConfigs    Step = "node configs"
	StepApply      Step = "apply configs"
	StepBootstrap  Step = "bootstrap"
	StepKubeconfig Step = "kubeconfig"
	StepHealth     Step = "health"
	StepAddons     Step = "add-ons"
)

// Steps returns the steps of Up, in the order they run (a new slice each call).
func Steps() []Step {
	return []Step{StepPreflight, StepTemplate, StepRemove, StepNodeVMs, StepConfigs, StepApply, StepBootstrap, StepKubeconfig, StepHealth, StepAddons}
}

// Stage is a step whose work the caller gives: the node VMs (the
// terraform/talos stack, run through lib/terraform) and the add-ons (the
// Helm releases of lib/addons). Apply makes the cluster match the
// inventory and says whether it changed something (changed) and what
// (summary, e.g. "1 VM(s) created, …" or "2 release(s) installed, …"), or
// that nothing differs. A node VMs stage must refuse, not apply, a plan
// that would destroy a VM: the VMs of nodes removed from the inventory
// are destroyed by the remove nodes step before it, through the stage's
// NodeVMRemover.
type Stage interface {
	Apply(ctx context.Context) (changed bool, summary string, err error)
}

// StagePlanner is a Stage that can also check without changing anything:
// the dry run's check of its step (changes says there are any, summary
// what they are).
type StagePlanner interface {
	Plan(ctx context.Context) (changes bool, summary string, err error)
}

// StageFunc adapts a function to Stage.
type StageFunc func(ctx context.Context) (changed bool, summary string, err error)

// Apply calls f.
func (f StageFunc) Apply(ctx context.Context) (bool, string, error) { return f(ctx) }

// Deps are what Up works through.
type Deps struct {
	// Proxmox is the Proxmox VE API client (preflight, the template).
	Proxmox *proxmox.Client
	// Factory is the Talos Image Factory client.
	Factory images.Factory
	// Lock is the image lock file (images.lock next to the inventory).
	Lock *images.LockFile
	// NodeVMs makes the node VMs.
	NodeVMs Stage
	// Addons installs the add-ons once the cluster is healthy, with the
	// kubeconfig the kubeconfig step wrote (talos/generated/kubeconfig).
	Addons Stage
}

// StepResult is what one step did.
type StepResult struct {
	// Step is the step.
	Step Step
	// Changed says the step changed something (on the host, on disk or on
	// a node).
	Changed bool
	// Detail says what it did, or what it found when it had nothing to do.
	Detail string
	// Took is how long the step ran.
	Took time.Duration
}

// Report is what Up did, one result per finished step in order.
type Report struct {
	Steps []StepResult
	// DryRun says nothing was changed: each step's Changed says it would
	// change something, its Detail what.
	DryRun bool
	// Unchecked are the steps a dry run did not check: those after the
	// first step that would change something, whose state depends on it.
	Unchecked []Step
}

// Changed says any step changed something.
func (r *Report) Changed() bool {
	for _, s := range r.Steps {
		if s.Changed {
			return true
		}
	}
	return false
}

// Event is a step starting (Done false) or ending (Done true, with its
// Result, or Err when it failed).
type Event struct {
	Step   Step
	Done   bool
	Result StepResult
	Err    error
}

// StepError is a step that failed.
type StepError struct {
	// Step is the step.
	Step Step
	// Err is the cause.
	Err error
}

// Error names the step and the cause.
func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// ErrPreflight means preflight found checks that failed.
var ErrPreflight = errors.New("the host is not ready")

// options are Up's settings.
type options struct {
	log        *slog.Logger
	events     func(Event)
	secrets    []secrets.Option
	talos      []talosnode.Option
	nodeWait   time.Duration
	healthWait time.Duration
	drainWait  time.Duration
	interval   time.Duration
	preflight  []preflight.Option
	dryRun     bool
}

// Option configures Up.
type Option func(*options)

// WithLogger sets the logger (default: discard); the lib packages Up calls
// log to it too.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithEvents receives each step as it starts and ends.
func WithEvents(f func(Event)) Option { return func(o *options) { o.events = f } }

// WithSecrets are the lib/secrets options the Talos secrets bundle is
// decrypted (and, the first time, encrypted) with.
func WithSecrets(opts ...secrets.Option) Option {
	return func(o *options) { o.secrets = append(o.secrets, opts...) }
}

// WithTalosOptions are lib/talosnode options for reaching the nodes:
// endpoint overrides (talosnode.WithEndpointOverrides, WithEndpoints),
// time limits of each connection and call.
func WithTalosOptions(opts ...talosnode.Option) Option {
	return func(o *options) { o.talos = append(o.talos, opts...) }
}

// WithPreflightOptions are lib/preflight options (its progress).
func WithPreflightOptions(opts ...preflight.Option) Option {
	return func(o *options) { o.preflight = append(o.preflight, opts...) }
}

// WithNodeWait is how long a node may take to answer: after its VM
// started (maintenance mode), and after its config was applied (the
// install and reboot) (default 10m).
func WithNodeWait(d time.Duration) Option { return func(o *options) { o.nodeWait = d } }

// WithHealthWait is how long the health step waits for the cluster to be
// healthy (default 10m).
func WithHealthWait(d time.Duration) Option { return func(o *options) { o.healthWait = d } }

// WithDrainWait is how long the remove nodes step waits for a leaving
// node's pods to be evicted (PodDisruptionBudgets may refuse for a while)
// and gone (default 5m).
func WithDrainWait(d time.Duration) Option { return func(o *options) { o.drainWait = d } }

// WithPollInterval is the time between two questions to a node that is
// not ready yet (default 5s).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// WithDryRun changes nothing: each step only checks, reading (the host,
// the files, each node's own dry run), in order, until the first step that
// would change something; the steps after it are left unchecked, since
// what they find depends on it. The node VMs and add-ons steps are
// checked only when their Stage is also a StagePlanner.
func WithDryRun() Option { return func(o *options) { o.dryRun = true } }

// up is one run of Up.
type up struct {
	inv   *inventory.Inventory
	root  string
	deps  Deps
	o     options
	nodes *talosnode.Cluster
}

// Up brings the inventory's cluster up (see the package documentation):
// root is the directory of the inventory file, which holds talos/patches,
// talos/generated and the secrets bundle. It stops at the first step that
// fails, with a *StepError naming it, and returns the report of the steps
// that ran.
func Up(ctx context.Context, inv *inventory.Inventory, root string, deps Deps, opts ...Option) (*Report, error) {
	o := options{log: slog.New(slog.DiscardHandler), nodeWait: 10 * time.Minute, healthWait: 10 * time.Minute, drainWait: 5 * time.Minute, interval: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	var missing []string
	if deps.Proxmox == nil {
		missing = append(missing, "Proxmox")
	}
	if deps.Factory == nil {
		missing = append(missing, "Factory")
	}
	if deps.Lock == nil {
		missing = append(missing, "Lock")
	}
	if deps.NodeVMs == nil {
		missing = append(missing, "NodeVMs")
	}
	if deps.Addons == nil {
		missing = append(missing, "Addons")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cluster.Up: Deps.%s not set", strings.Join(missing, ", Deps."))
	}
	u := &up{inv: inv, root: root, deps: deps, o: o,
		nodes: talosnode.New(inv, filepath.Join(root, talosgen.DefaultOutDir), append([]talosnode.Option{talosnode.WithLogger(o.log)}, o.talos...)...)}
	runs := map[Step]func(context.Context) (bool, string, error){
		StepPreflight: u.preflight, StepTemplate: u.template, StepRemove: u.remove, StepNodeVMs: u.deps.NodeVMs.Apply, StepConfigs: u.configs,
		StepApply: u.apply, StepBootstrap: u.bootstrap, StepKubeconfig: u.kubeconfig, StepHealth: u.health, StepAddons: u.deps.Addons.Apply,
	}
	if o.dryRun {
		runs = u.checks()
	}
	rep := &Report{DryRun: o.dryRun}
	for _, step := range Steps() {
		if err := ctx.Err(); err != nil {
			return rep, &StepError{Step: step, Err: fmt.Errorf("not started: %w", err)}
		}
		u.emit(Event{Step: step})
		start := time.Now()
		changed, detail, err := runs[step](ctx)
		res := StepResult{Step: step, Changed: changed, Detail: detail, Took: time.Since(start)}
		if err != nil {
			err = &StepError{Step: step, Err: err}
			u.emit(Event{Step: step, Done: true, Result: res, Err: err})
			return rep, err
		}
		o.log.Debug("step done", "step", step, "changed", changed, "detail", detail, "took", res.Took)
		rep.Steps = append(rep.Steps, res)
		u.emit(Event{Step: step, Done: true, Result: res})
		if o.dryRun && changed {
			rep.Unchecked = Steps()[len(rep.Steps):]
			break
		}
	}
	return rep, nil
}

func (u *up) emit(ev Event) {
	if u.o.events != nil {
		u.o.events(ev)
	}
}
