package talosupgrade

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosnode"
)

// Nodes is what the upgrade asks the Talos nodes (lib/talosnode's Cluster).
type Nodes interface {
	// Running is what a node says it runs.
	Running(ctx context.Context, node string) (talosnode.Running, error)
	// Upgrade asks a node to install an image and reboot into it.
	Upgrade(ctx context.Context, node, image string) error
	// CheckNode is a node's health: services, version, etcd members.
	CheckNode(ctx context.Context, node string) (talosnode.NodeHealth, error)
}

// Snapshotter takes an etcd snapshot and says where it is (the etcd
// part's lib function is wired in by the caller).
type Snapshotter interface {
	Snapshot(ctx context.Context) (string, error)
}

// SnapshotFunc is a function as a Snapshotter.
type SnapshotFunc func(ctx context.Context) (string, error)

// Snapshot calls f.
func (f SnapshotFunc) Snapshot(ctx context.Context) (string, error) { return f(ctx) }

// KubeNodes says whether a Kubernetes node is Ready (NewKubeNodes reads it
// with client-go). An error means the API did not answer.
type KubeNodes interface {
	NodeReady(ctx context.Context, name string) (ready bool, why string, err error)
}

// PVE is what the template rollover needs from Proxmox (lib/proxmox's
// Client): the import's calls and a clone.
type PVE interface {
	images.PVE
	CloneVM(ctx context.Context, node string, vmid, newid int, opts proxmox.CloneOptions, progress proxmox.Progress) error
}

// Deps are the upgrade's connections.
type Deps struct {
	// Nodes are the Talos nodes.
	Nodes Nodes
	// Proxmox, Factory and Lock import the new template (images.ImportTalos).
	Proxmox PVE
	Factory images.Factory
	Lock    *images.LockFile
	// Configs regenerates the node configs (talosgen.SyncConfigs) and
	// says what changed.
	Configs func(ctx context.Context) (string, error)
	// Snapshot takes the etcd snapshot before the first node; a run with
	// nodes to upgrade refuses without one.
	Snapshot Snapshotter
	// Kube checks Kubernetes nodes are Ready; nil when there is no
	// kubeconfig.
	Kube KubeNodes
}

// Image is a Talos version and Image Factory schematic.
type Image struct {
	// Version is the Talos version, Schematic the schematic ID ("" for
	// none).
	Version, Schematic string
}

// String is "v1.12.7 (schematic 376567988ad3)".
func (i Image) String() string {
	if i.Schematic == "" {
		return i.Version + " (no schematic)"
	}
	return fmt.Sprintf("%s (schematic %s)", i.Version, short(i.Schematic))
}

// label is "Talos v1.12.7, schematic 376567988ad3".
func (i Image) label() string {
	if i.Schematic == "" {
		return "Talos " + i.Version + ", no schematic"
	}
	return fmt.Sprintf("Talos %s, schematic %s", i.Version, short(i.Schematic))
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// NodeStep is one node of the rollout.
type NodeStep struct {
	// Node and Role are the inventory's.
	Node, Role string
	// From is what the node ran when planned, To what it will run.
	From, To Image
	// Current says the node already runs To: it is skipped.
	Current bool
	// Kube says its Kubernetes node is waited for (it was Ready when
	// planned).
	Kube bool
}

// TemplateAction is a step of the template rollover.
type TemplateAction int

// The template steps.
const (
	// RemoveStale deletes what an earlier run left at the previous
	// template's ID (a half-made copy, or a template no node runs).
	RemoveStale TemplateAction = iota + 1
	// KeepPrevious clones the template at talos.template_id to the
	// previous template's ID and makes the copy a template.
	KeepPrevious
	// ImportNew imports the inventory's image at talos.template_id,
	// replacing the old one (images.ImportTalos with Replace).
	ImportNew
	// RemovePrevious deletes the previous template once every node runs
	// the new image.
	RemovePrevious
)

// TemplateStep is one step of the template rollover.
type TemplateStep struct {
	// Action is what the step does, Detail the VM IDs and images.
	Action TemplateAction
	Detail string
}

// Plan is what an upgrade will do, decided from the nodes' answers and
// the host's VM configs. A dry run prints it; Execute runs the same plan.
type Plan struct {
	// Target is the inventory's version and schematic, InstallerImage the
	// image each node is asked to install.
	Target         Image
	InstallerImage string
	// TemplateID is talos.template_id, PreviousID where the old template
	// is kept (talos.template_id + 1).
	TemplateID, PreviousID int
	// Before are the template steps before the nodes (keep, import).
	Before []TemplateStep
	// Nodes are every node in rollout order: workers, then control
	// planes, each in inventory order; Current ones are skipped.
	Nodes []NodeStep
	// After are the template steps once every node runs Target.
	After []TemplateStep
	// Kube says whether and why Kubernetes nodes are checked.
	Kube string

	inv  *inventory.Inventory
	deps Deps
	o    options
}

// Pending are the nodes to upgrade, in order.
func (p *Plan) Pending() []NodeStep {
	var out []NodeStep
	for _, n := range p.Nodes {
		if !n.Current {
			out = append(out, n)
		}
	}
	return out
}

// NothingToDo says every node runs the target and the template holds it,
// with no previous template left to remove.
func (p *Plan) NothingToDo() bool {
	return len(p.Pending()) == 0 && len(p.Before) == 0 && len(p.After) == 0
}

// Option configures Plan.
type Option func(*options)

type options struct {
	wait, interval time.Duration
	events         func(plan.Event)
	log            *slog.Logger
}

// DefaultWait is how long a node has to come back healthy.
const DefaultWait = 10 * time.Minute

// WithWait sets how long each node has to come back on the new image,
// healthy (default DefaultWait).
func WithWait(d time.Duration) Option { return func(o *options) { o.wait = d } }

// WithInterval sets the time between checks while waiting (default 5s).
func WithInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// WithEvents receives progress: each step, and each check while waiting.
func WithEvents(f func(plan.Event)) Option { return func(o *options) { o.events = f } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// ErrNotReady means the upgrade cannot be planned: a node does not answer.
var ErrNotReady = errors.New("the cluster is not ready to upgrade")

// New plans the upgrade of the inventory's nodes to its Talos version and
// schematic, from each node's own answer and the host's VM configs;
// nothing is changed. A node that does not answer is ErrNotReady naming
// it.
func New(ctx context.Context, inv *inventory.Inventory, deps Deps, opts ...Option) (*Plan, error) {
	o := options{wait: DefaultWait, interval: 5 * time.Second, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	schematic, err := talosfactory.SchematicFor(inv).ID()
	if err != nil {
		return nil, err
	}
	p := &Plan{Target: Image{inv.Talos.Version, schematic}, TemplateID: inv.Talos.TemplateID, PreviousID: PreviousTemplateID(inv),
		inv: inv, deps: deps, o: o}
	if deps.Factory != nil {
		p.InstallerImage = deps.Factory.InstallerRef(schematic, inv.Talos.Version)
	}
	if err := checkPreviousID(inv); err != nil {
		return nil, err
	}
	for _, n := range rolloutOrder(inv) {
		r, err := deps.Nodes.Running(ctx, n.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotReady, err)
		}
		from := Image{r.Version, r.Schematic}
		p.Nodes = append(p.Nodes, NodeStep{Node: n.Name, Role: n.Role, From: from, To: p.Target, Current: from == p.Target})
	}
	if err := p.planKube(ctx); err != nil {
		return nil, err
	}
	if err := p.planTemplates(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// rolloutOrder is workers first, then control planes, each in inventory
// order.
func rolloutOrder(inv *inventory.Inventory) []inventory.TalosNode {
	nodes := slices.Clone(inv.Talos.Nodes)
	slices.SortStableFunc(nodes, func(a, b inventory.TalosNode) int {
		return boolInt(a.Role == inventory.RoleControlPlane) - boolInt(b.Role == inventory.RoleControlPlane)
	})
	return nodes
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// planKube decides, per node, whether its Kubernetes node is waited for:
// when the API answers and the node is Ready before the upgrade.
func (p *Plan) planKube(ctx context.Context) error {
	if p.deps.Kube == nil {
		p.Kube = "not checked: no kubeconfig"
		return nil
	}
	var notReady []string
	for i, n := range p.Nodes {
		ready, why, err := p.deps.Kube.NodeReady(ctx, n.Node)
		if err != nil {
			for j := range p.Nodes {
				p.Nodes[j].Kube = false
			}
			p.Kube = "not checked: the Kubernetes API does not answer (" + err.Error() + ")"
			return nil
		}
		p.Nodes[i].Kube = ready
		if !ready {
			notReady = append(notReady, n.Node+" ("+why+")")
		}
	}
	p.Kube = "each node's Kubernetes node must be Ready again"
	if len(notReady) > 0 {
		p.Kube += fmt.Sprintf("; not checked for %s: not Ready before the upgrade", joinAnd(notReady))
	}
	return nil
}
