package k8supgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/Masterminds/semver/v3"
	"github.com/cosi-project/runtime/pkg/state"
	"github.com/siderolabs/go-kubernetes/kubernetes/upgrade"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/compatibility"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
)

// Components are the Kubernetes components in the order Talos upgrades
// them: the control planes' static pods one component at a time, then
// every node's kubelet.
var Components = []string{talosnode.KubeAPIServer, talosnode.KubeControllerManager, talosnode.KubeScheduler, talosnode.Kubelet}

// Step is one component of one node to bring to the inventory's version.
type Step struct {
	// Component is kube-apiserver, kube-controller-manager,
	// kube-scheduler or kubelet; Node the inventory's node.
	Component, Node string
	// From is the version the node's config gives the component now (its
	// image tag), To the regenerated config's.
	From, To string
	// FromImage and ToImage are the images.
	FromImage, ToImage string
	// Apply says the node's config must change; false: the config already
	// has the new image, and the step waits until the component runs it.
	Apply bool
}

// Plan is what an upgrade does, in order.
type Plan struct {
	// From is the lowest version a component runs or is configured with,
	// To the inventory's kubernetes.version.
	From, To string
	// Talos is the Talos version of each node.
	Talos map[string]string
	// Steps are in the order they run; none when everything runs To.
	Steps []Step
	// ManifestsFrom is the control plane whose bootstrap manifests are
	// synced after the steps; Manifests are the objects the sync creates
	// or updates as the plan is made (a dry run of go-kubernetes'
	// manifests.Sync), of ManifestObjects in all.
	ManifestsFrom   string
	Manifests       []ManifestChange
	ManifestObjects int
	// node state the steps are made from.
	current map[string]map[string]string // node → component → configured image
	targets map[string][]byte            // node → regenerated config
}

// Nothing says every component of every node runs the inventory's
// version and the bootstrap manifests are applied as rendered.
func (p *Plan) Nothing() bool { return len(p.Steps) == 0 && len(p.Manifests) == 0 }

// WriteTable prints the plan: one row per step, from→to.
func (p *Plan) WriteTable(w io.Writer) error {
	if p.Nothing() {
		_, err := fmt.Fprintf(w, "Kubernetes %s: every component of every node runs it, the %d bootstrap manifest object(s) of %s are applied; nothing to do.\n",
			p.To, p.ManifestObjects, p.ManifestsFrom)
		return err
	}
	if len(p.Steps) > 0 {
		if _, err := fmt.Fprintf(w, "Kubernetes upgrade from %s to %s, %d step(s), one at a time:\n", p.From, p.To, len(p.Steps)); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tCOMPONENT\tNODE\tFROM\tTO\tACTION")
		for i, s := range p.Steps {
			action := "apply the config, wait until it runs"
			if !s.Apply {
				action = "config applied, wait until it runs"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, s.Component, s.Node, s.From, s.To, action)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	} else if _, err := fmt.Fprintf(w, "Kubernetes %s: every component of every node runs it.\n", p.To); err != nil {
		return err
	}
	return p.writeManifests(w)
}

// writeManifests prints the bootstrap manifest objects the sync changes
// as the plan was made (the objects the steps' new configs render are
// read again after the kubelets).
func (p *Plan) writeManifests(w io.Writer) error {
	if len(p.Manifests) == 0 {
		_, err := fmt.Fprintf(w, "Then the bootstrap manifests of %s: their %d object(s) are applied as rendered now; synced again after the kubelets.\n",
			p.ManifestsFrom, p.ManifestObjects)
		return err
	}
	if _, err := fmt.Fprintf(w, "Then the bootstrap manifests of %s, %d of %d object(s) to apply:\n", p.ManifestsFrom, len(p.Manifests), p.ManifestObjects); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, m := range p.Manifests {
		action := "update"
		if m.Create {
			action = "create"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", action, m.Path)
	}
	return tw.Flush()
}

// ErrUnsupported means the upgrade path is not one Talos supports.
var ErrUnsupported = errors.New("unsupported Kubernetes upgrade")

// UnsupportedError is an upgrade refused before anything changed: a
// downgrade, a step of more than one minor version, or a version the
// node's Talos does not support.
type UnsupportedError struct {
	// Node and Component are where it was found (Component is "" for a
	// Talos version check).
	Node, Component string
	// From is what the component runs, To the target version.
	From, To string
	// Talos is the node's Talos version.
	Talos string
	// Reason says what is wrong and what to do.
	Reason string
}

// Error names the node, the component, the versions and the rule.
func (e *UnsupportedError) Error() string {
	where := e.Node
	if e.Component != "" {
		where = e.Component + " on " + e.Node
	}
	return fmt.Sprintf("%s: %s -> %s: %s", where, e.From, e.To, e.Reason)
}

// Unwrap returns ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// UnknownNodeStateError means a node's state could not be read.
type UnknownNodeStateError struct {
	// Node is the node; What says what was not understood.
	Node, What string
}

// Error names the node and what was not understood.
func (e *UnknownNodeStateError) Error() string { return e.Node + ": " + e.What }

// Nodes is what the upgrade needs of the Talos nodes (talosnode.Cluster).
type Nodes interface {
	// KubernetesImages reads a node's Talos version and component images.
	KubernetesImages(ctx context.Context, node string) (talosnode.KubernetesImages, error)
	// ApplyNoReboot applies a config to a node without a reboot.
	ApplyNoReboot(ctx context.Context, node string, data []byte) (talosnode.ApplyResult, error)
	// BootstrapManifests reads the bootstrap manifests a control plane
	// renders (its Manifest resources).
	BootstrapManifests(ctx context.Context, node string) ([]*unstructured.Unstructured, error)
	// ReadState runs f with a node's COSI state.
	ReadState(ctx context.Context, node string, f func(ctx context.Context, st state.State) error) error
}

// makePlan reads every node's state and the regenerated configs, checks
// the path and lists the steps. It changes nothing.
func makePlan(ctx context.Context, inv *inventory.Inventory, nodes Nodes, cfg *rest.Config, kube kubernetes.Interface, configs *talosgen.Configs) (*Plan, error) {
	p := &Plan{To: inv.Kubernetes.Version, Talos: map[string]string{}, current: map[string]map[string]string{}, targets: map[string][]byte{}}
	to, err := semver.NewVersion(p.To)
	if err != nil {
		return nil, fmt.Errorf("kubernetes.version %q is not a version: %w", p.To, err)
	}
	want := map[string]map[string]string{}
	for _, nc := range configs.Nodes {
		cfg, err := configloader.NewFromBytes(nc.Config)
		if err != nil {
			return nil, fmt.Errorf("%s: the regenerated config does not load: %w", nc.Node.Name, err)
		}
		if cfg.Machine().Type().IsControlPlane() && cfg.Cluster().Proxy().Enabled() {
			return nil, &UnsupportedError{Node: nc.Node.Name, Component: "kube-proxy", To: p.To, Reason: "kube-proxy is enabled in the config (cluster.proxy.disabled is not true): " +
				"its DaemonSet is a bootstrap manifest this upgrade does not sync; disable it (Cilium replaces it) or upgrade with talosctl upgrade-k8s"}
		}
		w := map[string]string{talosnode.Kubelet: cfg.Machine().Kubelet().Image()}
		if cfg.Machine().Type().IsControlPlane() {
			w[talosnode.KubeAPIServer] = cfg.Cluster().APIServer().Image()
			w[talosnode.KubeControllerManager] = cfg.Cluster().ControllerManager().Image()
			w[talosnode.KubeScheduler] = cfg.Cluster().Scheduler().Image()
		}
		want[nc.Node.Name] = w
		p.targets[nc.Node.Name] = nc.Config
	}
	var lowest *semver.Version
	for _, n := range inv.Talos.Nodes {
		st, err := nodes.KubernetesImages(ctx, n.Name)
		if err != nil {
			return nil, err
		}
		p.Talos[n.Name] = st.Talos
		if err := supportedBy(n.Name, st.Talos, p.To); err != nil {
			return nil, err
		}
		p.current[n.Name] = st.Images
		for _, comp := range Components {
			img, ok := want[n.Name][comp]
			if !ok {
				continue
			}
			if err := checkPath(n.Name, comp, st.Images[comp], img, to, &lowest); err != nil {
				return nil, err
			}
		}
	}
	if lowest != nil {
		p.From = "v" + lowest.String()
		if err := preUpgradeChecks(ctx, inv, nodes, cfg, p.From, p.To); err != nil {
			return nil, err
		}
	}
	for _, comp := range Components {
		for _, n := range orderFor(inv, comp) {
			cur, tgt := p.current[n.Name][comp], want[n.Name][comp]
			running, err := runs(ctx, kube, n.Name, comp, tgt)
			if err != nil {
				return nil, err
			}
			if cur == tgt && running == "" {
				continue
			}
			p.Steps = append(p.Steps, Step{Component: comp, Node: n.Name, From: tagOf(cur), To: tagOf(tgt), FromImage: cur, ToImage: tgt, Apply: cur != tgt})
		}
	}
	p.ManifestsFrom = inv.Talos.ControlPlanes()[0].Name
	p.Manifests, p.ManifestObjects, err = syncManifests(ctx, nodes, cfg, p.ManifestsFrom, true)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// orderFor lists the nodes a component runs on, in Talos's order: the
// control planes, then (for the kubelet) the workers.
func orderFor(inv *inventory.Inventory, comp string) []inventory.TalosNode {
	out := inv.Talos.ControlPlanes()
	if comp == talosnode.Kubelet {
		for _, n := range inv.Talos.Nodes {
			if n.Role != inventory.RoleControlPlane {
				out = append(out, n)
			}
		}
	}
	return out
}

// supportedBy checks the target against the node's Talos version with
// machinery's compatibility matrix, as Talos does before upgrading.
func supportedBy(node, talos, to string) error {
	tv, err := compatibility.ParseTalosVersion(&machineapi.VersionInfo{Tag: talos})
	if err != nil {
		return &UnknownNodeStateError{Node: node, What: fmt.Sprintf("Talos version %q does not parse: %v", talos, err)}
	}
	kv, err := compatibility.ParseKubernetesVersion(to)
	if err != nil {
		return fmt.Errorf("kubernetes.version %q: %w", to, err)
	}
	if err := kv.SupportedWith(tv); err != nil {
		return &UnsupportedError{Node: node, To: to, Talos: talos, Reason: fmt.Sprintf("Talos %s does not support it (%v): set kubernetes.version to one it supports, or upgrade Talos first", talos, err)}
	}
	return nil
}

// checkPath refuses a downgrade (a patch downgrade too) and a step of
// more than one minor version with reasons of its own, then any path
// Talos's upgrade path (go-kubernetes upgrade.NewPath, IsSupported) does
// not list, and keeps the lowest version seen.
func checkPath(node, comp, cur, tgt string, to *semver.Version, lowest **semver.Version) error {
	from, err := semver.NewVersion(tagOf(cur))
	if err != nil {
		return &UnknownNodeStateError{Node: node, What: fmt.Sprintf("%s's image %q has no version tag", comp, cur)}
	}
	if t := tagOf(tgt); t != "v"+to.String() {
		return &UnsupportedError{Node: node, Component: comp, From: from.Original(), To: t,
			Reason: fmt.Sprintf("the regenerated config gives it %s, not kubernetes.version %s: a patch under talos/patches sets its image; remove it", tgt, to.Original())}
	}
	if *lowest == nil || from.LessThan(*lowest) {
		*lowest = from
	}
	e := &UnsupportedError{Node: node, Component: comp, From: from.Original(), To: to.Original()}
	path, err := upgrade.NewPath(from.Original(), to.Original())
	if err != nil {
		return &UnknownNodeStateError{Node: node, What: fmt.Sprintf("%s: the upgrade path %s -> %s does not parse: %v", comp, from.Original(), to.Original(), err)}
	}
	switch {
	case from.GreaterThan(to):
		e.Reason = "that is a downgrade, which Talos does not do: set kubernetes.version to " + from.Original() + " or later"
	case from.Major() != to.Major() || to.Minor() > from.Minor()+1:
		e.Reason = fmt.Sprintf("Kubernetes upgrades one minor version at a time: set kubernetes.version to v%d.%d.x first", from.Major(), from.Minor()+1)
	case !path.IsSupported():
		e.Reason = fmt.Sprintf("Talos's Kubernetes upgrade path %s is not one it supports (github.com/siderolabs/go-kubernetes upgrade.Path, as talosctl upgrade-k8s checks): "+
			"set kubernetes.version to a version it supports from %s", path, from.Original())
	default:
		return nil
	}
	return e
}

// tagOf is an image's tag: "v1.35.4" of "registry.k8s.io/kube-apiserver:v1.35.4".
func tagOf(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i:], "/") {
		return image[i+1:]
	}
	return ""
}

// runs says what keeps a component of a node from running the image
// Talos's way: the static pod's mirror pod (kube-system, label k8s-app)
// on the node runs it and is Ready; the kubelet's Node reports its version
// and is Ready. "" means it runs it.
func runs(ctx context.Context, kube kubernetes.Interface, node, comp, image string) (string, error) {
	if comp == talosnode.Kubelet {
		n, err := kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return "Node " + node + " is not registered", nil
		}
		if err != nil {
			return "", fmt.Errorf("get Node %s from the Kubernetes API: %w", node, err)
		}
		v := n.Status.NodeInfo.KubeletVersion
		if v != tagOf(image) {
			return fmt.Sprintf("Node %s reports kubelet %s", node, v), nil
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status != corev1.ConditionTrue {
				return fmt.Sprintf("Node %s runs kubelet %s but is not Ready (%s: %s)", node, v, c.Reason, c.Message), nil
			}
		}
		return "", nil
	}
	pods, err := kube.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=" + comp})
	if err != nil {
		return "", fmt.Errorf("list the %s pods in kube-system from the Kubernetes API: %w", comp, err)
	}
	for _, pod := range pods.Items {
		if pod.Spec.NodeName != node {
			continue
		}
		return podState(&pod, comp, image), nil
	}
	return fmt.Sprintf("no %s pod on %s in kube-system", comp, node), nil
}

// podState says why a static pod does not run image ("" when it does).
func podState(pod *corev1.Pod, comp, image string) string {
	name := "pod kube-system/" + pod.Name
	for _, c := range pod.Status.ContainerStatuses {
		if c.Name != comp {
			continue
		}
		if c.Image != image {
			return fmt.Sprintf("%s runs %s", name, c.Image)
		}
		if !c.Ready {
			why := "not ready"
			if c.State.Waiting != nil {
				why = c.State.Waiting.Reason + ": " + c.State.Waiting.Message
			}
			return fmt.Sprintf("%s runs %s but is not Ready (%s)", name, c.Image, why)
		}
		return ""
	}
	return name + " has no " + comp + " container status"
}
