package nodesim_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	v1alpha1config "github.com/siderolabs/talos/pkg/machinery/config/types/v1alpha1"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// kube is the package's real API server (the kubelet tests' only one:
// the Node names come from homelab.yaml, so they share no server state
// with another test).
var kube kubetest.Package

func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }

// TestKubeletsAgainstARealAPIServer: WithKubelets on a real kube-apiserver
// registers each Node before its mirror pods, writes statuses through the
// status subresource, and recreates a mirror pod (new UID) when its static
// pod changes, as a kubelet does; an unchanged static pod keeps its mirror
// pod.
func TestKubeletsAgainstARealAPIServer(t *testing.T) {
	srv := kube.Server(t)
	cs, err := srv.Clientset()
	require.NoError(t, err)
	env := talostest.New(t, filepath.Join("..", "..", "..", inventory.DefaultFile),
		talostest.WithNodeOptions(nodesim.WithKubelets(cs)), talostest.Applied())
	inv, sim, c := env.Inv, env.Sim, env.Cluster
	configs := map[string][]byte{}
	for _, name := range env.Names {
		configs[name], err = os.ReadFile(filepath.Join(env.Dir, name+".yaml"))
		require.NoError(t, err)
	}
	require.NoError(t, sim.KubeletErr())

	cp := inv.Talos.ControlPlanes()[0].Name
	node, err := cs.CoreV1().Nodes().Get(t.Context(), cp, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "v"+trimV(inv.Kubernetes.Version), node.Status.NodeInfo.KubeletVersion)
	require.Equal(t, corev1.ConditionTrue, ready(node.Status.Conditions))

	before := mirrorPod(t, cs, "kube-apiserver-"+cp)
	require.Equal(t, before.Annotations["kubernetes.io/config.hash"], before.Annotations["kubernetes.io/config.mirror"], "the mirror annotation is the static pod's hash")
	require.Equal(t, "http", before.Annotations["kubernetes.io/config.source"], "Talos serves static pods to the kubelet over HTTP")
	require.NotEmpty(t, before.Annotations[nodesim.AnnotationConfigVersion])
	require.Equal(t, []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: cp, UID: node.UID, Controller: new(true)}}, before.OwnerReferences,
		"the Node exists before its mirror pods, which it owns")
	require.Equal(t, corev1.PodRunning, before.Status.Phase, "status is written through the status subresource")
	require.Equal(t, corev1.ConditionTrue, podReady(before))

	// The same config again: the static pod is unchanged, so is its mirror pod.
	_, err = c.ApplyNoReboot(t.Context(), cp, configs[cp])
	require.NoError(t, err)
	require.Equal(t, before.UID, mirrorPod(t, cs, "kube-apiserver-"+cp).UID)

	// A new kube-apiserver image: the kubelet deletes the mirror pod and
	// creates a new one (a new UID) for the new static pod.
	cfg, err := configloader.NewFromBytes(configs[cp])
	require.NoError(t, err)
	patched, err := cfg.PatchV1Alpha1(func(c *v1alpha1config.Config) error {
		c.ClusterConfig.APIServerConfig.ContainerImage = "registry.k8s.io/kube-apiserver:v1.35.99"
		return nil
	})
	require.NoError(t, err)
	data, err := patched.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	require.NoError(t, err)
	_, err = c.ApplyNoReboot(t.Context(), cp, data)
	require.NoError(t, err)
	require.NoError(t, sim.KubeletErr())
	after := mirrorPod(t, cs, "kube-apiserver-"+cp)
	require.NotEqual(t, before.UID, after.UID, "a changed static pod gets a new mirror pod")
	require.NotEqual(t, before.Annotations["kubernetes.io/config.mirror"], after.Annotations["kubernetes.io/config.mirror"])
	require.NotEqual(t, before.Annotations[nodesim.AnnotationConfigVersion], after.Annotations[nodesim.AnnotationConfigVersion])
	require.Equal(t, "registry.k8s.io/kube-apiserver:v1.35.99", after.Spec.Containers[0].Image)
	require.Equal(t, "registry.k8s.io/kube-apiserver:v1.35.99", after.Status.ContainerStatuses[0].Image)
}

func mirrorPod(t *testing.T, cs kubernetes.Interface, name string) *corev1.Pod {
	t.Helper()
	p, err := cs.CoreV1().Pods("kube-system").Get(t.Context(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return p
}

func ready(conds []corev1.NodeCondition) corev1.ConditionStatus {
	for _, c := range conds {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return ""
}

func podReady(p *corev1.Pod) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status
		}
	}
	return ""
}

func trimV(v string) string {
	if len(v) > 0 && v[0] == 'v' {
		return v[1:]
	}
	return v
}
