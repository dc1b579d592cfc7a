package k8supgrade

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/state"
	"github.com/siderolabs/go-kubernetes/kubernetes/upgrade"
	"google.golang.org/grpc/metadata"
	"k8s.io/client-go/rest"

	"github.com/wdiazux/infra/lib/inventory"
)

// Finding is one thing Talos's pre-upgrade checks found that the target
// version removed.
type Finding struct {
	// Node and Component are where it was found ("" for an API resource
	// still in use).
	Node, Component string
	// What is "removed flag", "removed feature gate", "removed admission
	// plugin" or "removed API resource in use"; Value the flag, gate,
	// plugin or resource (with the number of objects).
	What, Value string
}

// CheckError is an upgrade Talos's pre-upgrade checks refused before
// anything changed (go-kubernetes upgrade.Checks, what talosctl
// upgrade-k8s runs): the nodes still use what the target version removed.
type CheckError struct {
	// Path is Talos's upgrade path, "1.34->1.35"; Findings what was found.
	Path     string
	Findings []Finding
}

// Error lists the findings and says what to do.
func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Talos's pre-upgrade checks for %s found what the new version removed:\n", e.Path)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tCOMPONENT\tFOUND\tVALUE")
	for _, f := range e.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Node, f.Component, f.What, f.Value)
	}
	_ = tw.Flush()
	b.WriteString("remove them (the extraArgs of talos/patches, the objects of the removed API versions) and run the upgrade again")
	return b.String()
}

// Unwrap returns ErrUnsupported.
func (e *CheckError) Unwrap() error { return ErrUnsupported }

// preUpgradeChecks runs Talos's pre-upgrade checks for the path from→to
// on the nodes' COSI state (StaticPod and KubeletSpec resources) and the
// API server (removed API resources still in use).
func preUpgradeChecks(ctx context.Context, inv *inventory.Inventory, nodes Nodes, cfg *rest.Config, from, to string) error {
	path, err := upgrade.NewPath(from, to)
	if err != nil {
		return fmt.Errorf("the upgrade path %s -> %s: %w", from, to, err)
	}
	var cps, workers []string
	for _, n := range inv.Talos.Nodes {
		if n.Role == inventory.RoleControlPlane {
			cps = append(cps, n.Name)
		} else {
			workers = append(workers, n.Name)
		}
	}
	checks, err := upgrade.NewChecks(path, state.WrapCore(nodeStates{nodes: nodes}), rest.CopyConfig(cfg), cps, workers, func(string, ...any) {})
	if err != nil {
		return err
	}
	err = checks.Run(ctx)
	var found upgrade.ComponentRemovedItemsError
	if !errors.As(err, &found) {
		return err
	}
	ce := &CheckError{Path: path.String()}
	add := func(items []upgrade.ComponentItem, what string) {
		for _, it := range items {
			ce.Findings = append(ce.Findings, Finding{Node: it.Node, Component: it.Component, What: what, Value: it.Value})
		}
	}
	add(found.AdmissionFlags, "removed admission plugin")
	add(found.FeatureGates, "removed feature gate")
	add(found.CLIFlags, "removed flag")
	for _, res := range slices.Sorted(maps.Keys(found.APIResources)) {
		ce.Findings = append(ce.Findings, Finding{What: "removed API resource in use", Value: fmt.Sprintf("%s (%d object(s))", res, found.APIResources[res])})
	}
	slices.SortStableFunc(ce.Findings, func(a, b Finding) int {
		return strings.Compare(a.Node+"\x00"+a.Component, b.Node+"\x00"+b.Component)
	})
	return ce
}

// nodeStates is one read-only COSI state over every node, as Talos's API
// routes a request to the node its "node" metadata names (client.WithNode):
// each Get or List opens that node's state. Writes and watches are refused
// with errReadOnly (the checks only read).
type nodeStates struct {
	nodes Nodes
}

// errReadOnly is what nodeStates answers to a write or a watch.
var errReadOnly = errors.New("the pre-upgrade checks' view of the nodes is read-only")

// onNode runs f on the state of the node the context names, with that
// name taken out of the request's metadata.
func (s nodeStates) onNode(ctx context.Context, what any, f func(context.Context, state.State) error) error {
	md, _ := metadata.FromOutgoingContext(ctx)
	names := md.Get("node")
	if len(names) != 1 {
		return fmt.Errorf("read %s: the request names no single node (%v)", what, names)
	}
	md = md.Copy()
	md.Delete("node")
	return s.nodes.ReadState(metadata.NewOutgoingContext(ctx, md), names[0], f)
}

// Get reads the resource from the node the context names.
func (s nodeStates) Get(ctx context.Context, ptr resource.Pointer, opts ...state.GetOption) (out resource.Resource, err error) {
	err = s.onNode(ctx, ptr, func(ctx context.Context, st state.State) error {
		out, err = st.Get(ctx, ptr, opts...)
		return err
	})
	return out, err
}

// List lists the resources of a kind on the node the context names.
func (s nodeStates) List(ctx context.Context, kind resource.Kind, opts ...state.ListOption) (out resource.List, err error) {
	err = s.onNode(ctx, kind, func(ctx context.Context, st state.State) error {
		out, err = st.List(ctx, kind, opts...)
		return err
	})
	return out, err
}

// Create is refused: read-only.
func (nodeStates) Create(_ context.Context, r resource.Resource, _ ...state.CreateOption) error {
	return fmt.Errorf("create %s: %w", r.Metadata(), errReadOnly)
}

// Update is refused: read-only.
func (nodeStates) Update(_ context.Context, r resource.Resource, _ ...state.UpdateOption) error {
	return fmt.Errorf("update %s: %w", r.Metadata(), errReadOnly)
}

// Destroy is refused: read-only.
func (nodeStates) Destroy(_ context.Context, ptr resource.Pointer, _ ...state.DestroyOption) error {
	return fmt.Errorf("destroy %s: %w", ptr, errReadOnly)
}

// Watch is refused: the checks read once.
func (nodeStates) Watch(_ context.Context, ptr resource.Pointer, _ chan<- state.Event, _ ...state.WatchOption) error {
	return fmt.Errorf("watch %s: %w", ptr, errReadOnly)
}

// WatchKind is refused: the checks read once.
func (nodeStates) WatchKind(_ context.Context, kind resource.Kind, _ chan<- state.Event, _ ...state.WatchKindOption) error {
	return fmt.Errorf("watch %s: %w", kind, errReadOnly)
}

// WatchKindAggregated is refused: the checks read once.
func (nodeStates) WatchKindAggregated(_ context.Context, kind resource.Kind, _ chan<- []state.Event, _ ...state.WatchKindOption) error {
	return fmt.Errorf("watch %s: %w", kind, errReadOnly)
}
