package nodesim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// The Kubernetes components a node runs, as Talos names them.
const (
	componentAPIServer         = k8s.APIServerID
	componentControllerManager = k8s.ControllerManagerID
	componentScheduler         = k8s.SchedulerID
	componentKubelet           = k8s.KubeletID
)

// staticPods are a control plane's static pods, in Talos's order.
var staticPods = []string{componentAPIServer, componentControllerManager, componentScheduler}

// AnnotationConfigVersion is the annotation Talos puts on a static pod:
// the version of the config resource it was rendered from.
const AnnotationConfigVersion = "talos.dev/config-version"

// WithKubelets makes every configured node play its kubelet against the
// Kubernetes API cs (a real kube-apiserver in this repository's tests):
// each time a config is applied it registers or updates its Node (named
// after its hostname, status.nodeInfo.kubeletVersion the tag of its
// config's machine.kubelet.image, Ready), and a control plane brings the
// mirror pods of its static pods (kube-system, <component>-<hostname>) in
// line with them, as a kubelet does (see the package documentation).
func WithKubelets(cs kubernetes.Interface) Option { return func(s *Sim) { s.kube = cs } }

// SetStalled makes a component of a node (kube-apiserver,
// kube-controller-manager, kube-scheduler or kubelet) not come up on a
// new image: a static pod runs the new image but never gets Ready (its
// container crash-loops), a kubelet does not start, so its Node keeps the
// version it had and turns NotReady. SetStalled(name, component, false)
// lets it come up, as a kubelet retrying does.
func (s *Sim) SetStalled(name, component string, stalled bool) error {
	s.mu.Lock()
	n, ok := s.nodes[name]
	if ok {
		n.stalled[component] = stalled
	}
	data := []byte(nil)
	if ok {
		data = n.config
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("nodesim: no node %q", name)
	}
	if data == nil {
		return nil
	}
	cfg, err := configloader.NewFromBytes(data)
	if err != nil {
		return err
	}
	return n.follow(cfg)
}

// KubeletErr joins the kubelets' failed writes to the Kubernetes API.
func (s *Sim) KubeletErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.kubeErrs...)
}

// follow brings a node's state in line with its config, as Talos's
// controllers do: the COSI resources Talos derives from the config (the
// KubeletSpec; on a control plane the APIServerConfig,
// ControllerManagerConfig and SchedulerConfig, the StaticPod each renders
// and the bootstrap manifests (manifests.go)), then, WithKubelets, what the kubelet writes to the Kubernetes
// API (kubelet.go).
func (n *Node) follow(cfg config.Provider) error {
	ctx := context.Background()
	kubelet := cfg.Machine().Kubelet().Image()
	if err := safe.StateModify(ctx, n.st, k8s.NewKubeletSpec(k8s.NamespaceName, k8s.KubeletID), func(r *k8s.KubeletSpec) error {
		r.TypedSpec().Image = kubelet
		r.TypedSpec().Args = flags("", cfg.Machine().Kubelet().ExtraArgs())
		return nil
	}); err != nil {
		return status.Errorf(codes.Internal, "kubelet spec: %v", err)
	}
	var pods []*corev1.Pod
	if cfg.Machine().Type().IsControlPlane() {
		for _, comp := range staticPods {
			image, args, version, err := n.componentConfig(ctx, cfg, comp)
			if err != nil {
				return err
			}
			pod := renderStaticPod(comp, image, version, args)
			if err := writeStaticPod(ctx, n.st, pod); err != nil {
				return err
			}
			pods = append(pods, pod)
		}
		if err := writeManifests(ctx, n.st, cfg); err != nil {
			return err
		}
	}
	n.sim.mu.Lock()
	cs, hostname := n.sim.kube, n.hostname
	stalled := map[string]bool{}
	for k, v := range n.stalled {
		stalled[k] = v
	}
	n.sim.mu.Unlock()
	if cs == nil {
		return nil
	}
	if hostname == "" {
		hostname = n.name
	}
	k := kubeletOf{cs: cs, nodeName: hostname, role: n.role, stalled: stalled}
	if err := k.sync(ctx, tag(kubelet), pods); err != nil {
		n.sim.mu.Lock()
		n.sim.kubeErrs = append(n.sim.kubeErrs, fmt.Errorf("%s: %w", n.name, err))
		n.sim.mu.Unlock()
	}
	return nil
}

// componentConfig writes a control-plane component's config resource
// from the machine config and returns its image, its command line (the
// binary, the defaults modelled, the config's extraArgs) and the
// resource's version.
func (n *Node) componentConfig(ctx context.Context, cfg config.Provider, comp string) (image string, args []string, version string, err error) {
	switch comp {
	case componentAPIServer:
		image = cfg.Cluster().APIServer().Image()
		// Talos's default admission plugins (control_plane_static_pod.go).
		args = flags("/usr/local/bin/"+comp, mergeArgs(map[string]string{"enable-admission-plugins": "NodeRestriction"}, cfg.Cluster().APIServer().ExtraArgs()))
		version, err = modify(ctx, n, k8s.NewAPIServerConfig(), func(r *k8s.APIServerConfig) { r.TypedSpec().Image = image })
	case componentControllerManager:
		image = cfg.Cluster().ControllerManager().Image()
		args = flags("/usr/local/bin/"+comp, cfg.Cluster().ControllerManager().ExtraArgs())
		version, err = modify(ctx, n, k8s.NewControllerManagerConfig(), func(r *k8s.ControllerManagerConfig) { r.TypedSpec().Image = image })
	case componentScheduler:
		image = cfg.Cluster().Scheduler().Image()
		args = flags("/usr/local/bin/"+comp, cfg.Cluster().Scheduler().ExtraArgs())
		version, err = modify(ctx, n, k8s.NewSchedulerConfig(), func(r *k8s.SchedulerConfig) { r.TypedSpec().Image = image })
	default:
		err = status.Errorf(codes.Internal, "unknown static pod %q", comp)
	}
	return image, args, version, err
}

// mergeArgs adds extra to defaults; an admission plugin or feature gate
// list is added to, as Talos's MergeAdditive does, any other flag replaced.
func mergeArgs(defaults, extra map[string]string) map[string]string {
	out := maps.Clone(defaults)
	for k, v := range extra {
		if old, ok := out[k]; ok && (k == "enable-admission-plugins" || k == "feature-gates") {
			v = old + "," + v
		}
		out[k] = v
	}
	return out
}

// flags is a command line as Talos's argsbuilder writes one: the binary
// (none when ""), then --key=value sorted by key.
func flags(binary string, args map[string]string) []string {
	var out []string
	if binary != "" {
		out = append(out, binary)
	}
	for _, k := range slices.Sorted(maps.Keys(args)) {
		out = append(out, "--"+k+"="+args[k])
	}
	return out
}

// modify creates or updates a control-plane config resource and returns
// its version, which Talos puts on the static pod.
func modify[T resource.Resource](ctx context.Context, n *Node, r T, set func(T)) (string, error) {
	out, err := safe.StateModifyWithResult(ctx, n.st, r, func(r T) error { set(r); return nil })
	if err != nil {
		return "", status.Errorf(codes.Internal, "%s: %v", r.Metadata().Type(), err)
	}
	return out.Metadata().Version().String(), nil
}
