package nodesim

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// Kubernetes API cs (a real server, or client-go's fake clientset): it
// registers its Node (named after its hostname) with
// status.nodeInfo.kubeletVersion the tag of its config's
// machine.kubelet.image, and a control plane writes the mirror pods of its
// static pods in kube-system (kube-apiserver-<hostname>, ..., label
// k8s-app, the config's image, Ready), each time a config is applied.
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
// static pods' APIServerConfig, ControllerManagerConfig, SchedulerConfig,
// the KubeletSpec), then, WithKubelets, its Node and mirror pods.
func (n *Node) follow(cfg config.Provider) error {
	ctx := context.Background()
	kubelet := cfg.Machine().Kubelet().Image()
	if err := safe.StateModify(ctx, n.st, k8s.NewKubeletSpec(k8s.NamespaceName, k8s.KubeletID), func(r *k8s.KubeletSpec) error {
		r.TypedSpec().Image = kubelet
		return nil
	}); err != nil {
		return status.Errorf(codes.Internal, "kubelet spec: %v", err)
	}
	images := map[string]string{componentKubelet: kubelet}
	versions := map[string]string{}
	if cfg.Machine().Type().IsControlPlane() {
		images[componentAPIServer] = cfg.Cluster().APIServer().Image()
		images[componentControllerManager] = cfg.Cluster().ControllerManager().Image()
		images[componentScheduler] = cfg.Cluster().Scheduler().Image()
		var err error
		if versions[componentAPIServer], err = modify(ctx, n, k8s.NewAPIServerConfig(), func(r *k8s.APIServerConfig) { r.TypedSpec().Image = images[componentAPIServer] }); err != nil {
			return err
		}
		if versions[componentControllerManager], err = modify(ctx, n, k8s.NewControllerManagerConfig(), func(r *k8s.ControllerManagerConfig) {
			r.TypedSpec().Image = images[componentControllerManager]
		}); err != nil {
			return err
		}
		if versions[componentScheduler], err = modify(ctx, n, k8s.NewSchedulerConfig(), func(r *k8s.SchedulerConfig) { r.TypedSpec().Image = images[componentScheduler] }); err != nil {
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
	err := n.kubeletWrites(ctx, cs, hostname, images, versions, stalled)
	if err != nil {
		n.sim.mu.Lock()
		n.sim.kubeErrs = append(n.sim.kubeErrs, fmt.Errorf("%s: %w", n.name, err))
		n.sim.mu.Unlock()
	}
	return nil
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

// kubeletWrites registers the node and writes its mirror pods.
func (n *Node) kubeletWrites(ctx context.Context, cs kubernetes.Interface, hostname string, images, versions map[string]string, stalled map[string]bool) error {
	if err := writeNode(ctx, cs, hostname, n.role, tag(images[componentKubelet]), stalled[componentKubelet]); err != nil {
		return err
	}
	for _, comp := range staticPods {
		img, ok := images[comp]
		if !ok {
			continue
		}
		if err := writeMirrorPod(ctx, cs, hostname, comp, img, versions[comp], stalled[comp]); err != nil {
			return err
		}
	}
	return nil
}

// tag is an image's tag: "v1.35.4" of "ghcr.io/siderolabs/kubelet:v1.35.4".
func tag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i:], "/") {
		return image[i+1:]
	}
	return ""
}

// writeNode registers or updates the Node: a stalled kubelet keeps the
// version the Node had and turns it NotReady.
func writeNode(ctx context.Context, cs kubernetes.Interface, name, role, version string, stalled bool) error {
	nodes := cs.CoreV1().Nodes()
	node, err := nodes.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		labels := map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
		if role == "controlplane" {
			labels["node-role.kubernetes.io/control-plane"] = ""
		}
		node, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("register Node %s: %w", name, err)
	}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}
	if stalled {
		ready = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status.", LastTransitionTime: metav1.Now()}
		if node.Status.NodeInfo.KubeletVersion != "" {
			version = node.Status.NodeInfo.KubeletVersion
		}
	}
	node.Status.NodeInfo.KubeletVersion = version
	node.Status.Conditions = []corev1.NodeCondition{ready}
	if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update Node %s's status: %w", name, err)
	}
	return nil
}

// writeMirrorPod writes a static pod's mirror pod: the image of the
// config, Ready unless the component is stalled (then its container
// crash-loops).
func writeMirrorPod(ctx context.Context, cs kubernetes.Interface, hostname, comp, image, configVersion string, stalled bool) error {
	pods := cs.CoreV1().Pods("kube-system")
	name := comp + "-" + hostname
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		pod, err = pods.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system",
				Labels:      map[string]string{"k8s-app": comp, "tier": "control-plane"},
				Annotations: map[string]string{"kubernetes.io/config.mirror": comp, AnnotationConfigVersion: configVersion}},
			Spec: corev1.PodSpec{NodeName: hostname, Containers: []corev1.Container{{Name: comp, Image: image}}},
		}, metav1.CreateOptions{})
	} else if err == nil {
		pod.Annotations[AnnotationConfigVersion] = configVersion
		pod.Spec.Containers[0].Image = image
		pod, err = pods.Update(ctx, pod, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("write pod kube-system/%s: %w", name, err)
	}
	cst := corev1.ContainerStatus{Name: comp, Image: image, Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}
	ready := corev1.ConditionTrue
	if stalled {
		cst.Ready, ready = false, corev1.ConditionFalse
		cst.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off restarting failed container " + comp}}
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}, ContainerStatuses: []corev1.ContainerStatus{cst}}
	if _, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("write pod kube-system/%s's status: %w", name, err)
	}
	return nil
}
