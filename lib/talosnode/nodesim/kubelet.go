package nodesim

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/cosi-project/runtime/pkg/state"
	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// The annotations a kubelet puts on a static pod and its mirror pod
// (k8s.io/kubernetes/pkg/kubelet/types).
const (
	annotationConfigHash   = "kubernetes.io/config.hash"
	annotationConfigSource = "kubernetes.io/config.source"
	annotationConfigSeen   = "kubernetes.io/config.seen"
	// AnnotationMirror marks a mirror pod; its value is the static pod's
	// config hash.
	AnnotationMirror = "kubernetes.io/config.mirror"
)

// renderStaticPod is the pod Talos's static pod controller renders for a
// control-plane component: its name, namespace kube-system, the
// talos.dev/config-version of the config resource, Talos's labels, the
// system-cluster-critical priority class, host network, one container of
// the component with its command line.
func renderStaticPod(comp, image, configVersion string, command []string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: comp, Namespace: "kube-system",
			Annotations: map[string]string{AnnotationConfigVersion: configVersion},
			Labels: map[string]string{
				"tier": "control-plane", "k8s-app": comp, "component": comp,
				"app.kubernetes.io/name": comp, "app.kubernetes.io/version": strings.TrimPrefix(tag(image), "v"),
				"app.kubernetes.io/component": "control-plane", "app.kubernetes.io/managed-by": "Talos",
			},
		},
		Spec: corev1.PodSpec{
			PriorityClassName: "system-cluster-critical",
			HostNetwork:       true,
			Containers:        []corev1.Container{{Name: comp, Image: image, Command: command}},
		},
	}
}

// writeStaticPod stores the pod as the node's StaticPod resource
// (namespace k8s, ID the component), as Talos does.
func writeStaticPod(ctx context.Context, st state.State, pod *corev1.Pod) error {
	data, err := json.Marshal(pod)
	if err != nil {
		return status.Errorf(codes.Internal, "static pod %s: %v", pod.Name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return status.Errorf(codes.Internal, "static pod %s: %v", pod.Name, err)
	}
	if err := safe.StateModify(ctx, st, k8s.NewStaticPod(k8s.NamespaceName, pod.Name), func(r *k8s.StaticPod) error {
		r.TypedSpec().Pod = m
		return nil
	}); err != nil {
		return status.Errorf(codes.Internal, "static pod %s: %v", pod.Name, err)
	}
	return nil
}

// kubeletOf is a node's kubelet as it talks to the API server.
type kubeletOf struct {
	cs       kubernetes.Interface
	nodeName string
	role     string
	stalled  map[string]bool
}

// sync registers the Node (its kubelet at version) and, unless the
// kubelet is stalled, brings the mirror pods in line with the static pods.
func (k kubeletOf) sync(ctx context.Context, version string, pods []*corev1.Pod) error {
	node, err := k.writeNode(ctx, version)
	if err != nil || k.stalled[componentKubelet] {
		return err
	}
	for _, pod := range pods {
		if err := k.writeMirrorPod(ctx, node, pod); err != nil {
			return err
		}
	}
	return nil
}

// writeNode registers the Node with its status, as a kubelet does on its
// first start, or patches its status through the status subresource: a
// stalled kubelet keeps the version the Node had and turns it NotReady.
func (k kubeletOf) writeNode(ctx context.Context, version string) (*corev1.Node, error) {
	nodes := k.cs.CoreV1().Nodes()
	now := metav1.Now()
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}
	node, err := nodes.Get(ctx, k.nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		labels := map[string]string{"kubernetes.io/hostname": k.nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
		if k.role == "controlplane" {
			labels["node-role.kubernetes.io/control-plane"] = ""
		}
		if k.stalled[componentKubelet] {
			return nil, nil // a kubelet that does not start registers nothing
		}
		node, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: k.nodeName, Labels: labels},
			Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: version, OperatingSystem: "linux", Architecture: "amd64"},
				Conditions: []corev1.NodeCondition{ready}}}, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("register Node %s: %w", k.nodeName, err)
		}
		return node, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get Node %s: %w", k.nodeName, err)
	}
	if k.stalled[componentKubelet] {
		// Nothing posts the Node's status: the node lifecycle controller
		// marks it Unknown.
		ready = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown",
			Message: "Kubelet stopped posting node status.", LastHeartbeatTime: readyOf(node).LastHeartbeatTime, LastTransitionTime: now}
		version = node.Status.NodeInfo.KubeletVersion
	}
	if old := readyOf(node); old.Status == ready.Status {
		ready.LastTransitionTime = old.LastTransitionTime
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{
		"nodeInfo":   map[string]any{"kubeletVersion": version},
		"conditions": []corev1.NodeCondition{ready},
	}})
	if err != nil {
		return nil, err
	}
	node, err = nodes.Patch(ctx, k.nodeName, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return nil, fmt.Errorf("patch Node %s's status: %w", k.nodeName, err)
	}
	return node, nil
}

// readyOf is the Node's Ready condition (zero when it has none).
func readyOf(n *corev1.Node) corev1.NodeCondition {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c
		}
	}
	return corev1.NodeCondition{}
}

// writeMirrorPod does what the kubelet's pod workers and mirror client do
// for a static pod: a mirror pod whose config.mirror annotation is not the
// static pod's hash is deleted (grace period 0, the UID as precondition)
// and created anew, named <pod>-<node>, owned by the Node; then its status
// is written through the status subresource.
func (k kubeletOf) writeMirrorPod(ctx context.Context, node *corev1.Node, static *corev1.Pod) error {
	pods := k.cs.CoreV1().Pods(static.Namespace)
	name := static.Name + "-" + strings.ToLower(k.nodeName)
	hash, err := podHash(static)
	if err != nil {
		return err
	}
	mirror, err := pods.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		mirror = nil
	case err != nil:
		return fmt.Errorf("get pod %s/%s: %w", static.Namespace, name, err)
	case mirror.Annotations[AnnotationMirror] != hash || mirror.DeletionTimestamp != nil:
		if err := pods.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0)),
			Preconditions: &metav1.Preconditions{UID: &mirror.UID}}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete mirror pod %s/%s: %w", static.Namespace, name, err)
		}
		mirror = nil
	}
	if mirror == nil {
		pod := static.DeepCopy()
		pod.Name = name
		pod.Spec.NodeName = k.nodeName
		pod.Annotations[annotationConfigHash] = hash
		pod.Annotations[annotationConfigSource] = "http"
		pod.Annotations[annotationConfigSeen] = time.Now().UTC().Format(time.RFC3339Nano)
		pod.Annotations[AnnotationMirror] = hash
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, Controller: new(true)}}
		if mirror, err = pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create mirror pod %s/%s: %w", static.Namespace, name, err)
		}
	}
	mirror.Status = podStatus(mirror, static.Spec.Containers[0], k.stalled[static.Name])
	if _, err := pods.UpdateStatus(ctx, mirror, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("write the status of pod %s/%s: %w", static.Namespace, name, err)
	}
	return nil
}

// podHash is the static pod's config hash: FNV-32a of its JSON (the
// kubelet hashes its decoded object; the value is the simulator's).
func podHash(pod *corev1.Pod) (string, error) {
	data, err := json.Marshal(pod)
	if err != nil {
		return "", fmt.Errorf("hash static pod %s: %w", pod.Name, err)
	}
	h := fnv.New32a()
	_, _ = h.Write(data)
	return strconv.FormatUint(uint64(h.Sum32()), 16), nil
}

// podStatus is the status the kubelet reports for a running static pod:
// Running, its container started and Ready; a stalled component's
// container crash-loops and the pod is not Ready.
func podStatus(mirror *corev1.Pod, c corev1.Container, stalled bool) corev1.PodStatus {
	now := metav1.Now()
	start := mirror.CreationTimestamp
	cst := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: new(true),
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: start}}}
	ready, reason, message := corev1.ConditionTrue, "", ""
	if stalled {
		cst.Ready, cst.Started, cst.RestartCount = false, new(false), 1
		cst.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off restarting failed container " + c.Name}}
		ready, reason, message = corev1.ConditionFalse, "ContainersNotReady", "containers with unready status: ["+c.Name+"]"
	}
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus, reason, message string) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: s, Reason: reason, Message: message, LastTransitionTime: now}
	}
	return corev1.PodStatus{
		Phase:     corev1.PodRunning,
		QOSClass:  mirror.Status.QOSClass,
		StartTime: &start,
		Conditions: []corev1.PodCondition{
			cond(corev1.PodReadyToStartContainers, corev1.ConditionTrue, "", ""),
			cond(corev1.PodInitialized, corev1.ConditionTrue, "", ""),
			cond(corev1.PodReady, ready, reason, message),
			cond(corev1.ContainersReady, ready, reason, message),
			cond(corev1.PodScheduled, corev1.ConditionTrue, "", ""),
		},
		ContainerStatuses: []corev1.ContainerStatus{cst},
	}
}

// tag is an image's tag: "v1.35.4" of "ghcr.io/siderolabs/kubelet:v1.35.4".
func tag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i:], "/") {
		return image[i+1:]
	}
	return ""
}
