package kubenode_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/lib/kubenode"
)

var kube kubetest.Package

func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }

// pod makes a pod bound to node, with no grace period (nothing here plays
// the kubelet that would confirm a graceful deletion).
func pod(t *testing.T, cs kubernetes.Interface, ns, name, node string, labels, annotations map[string]string, owner string) {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{NodeName: node, TerminationGracePeriodSeconds: new(int64),
			Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/app:1"}}},
	}
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: owner, Name: "owner", UID: "00000000-0000-0000-0000-000000000001"}}
	}
	p, err := cs.CoreV1().Pods(ns).Create(t.Context(), p, metav1.CreateOptions{})
	require.NoError(t, err)
	running(t, cs, p)
}

// running writes the status a kubelet would: Running and Ready (a pending
// or unready pod is evicted whatever its disruption budget says).
func running(t *testing.T, cs kubernetes.Interface, p *corev1.Pod) {
	t.Helper()
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	_, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(t.Context(), p, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// TestDrain: Drain cordons the node and evicts its pods but DaemonSet and
// mirror pods; an eviction a PodDisruptionBudget refuses is asked again
// until the wait runs out (a *DrainError naming the pod), and succeeds
// once the budget allows it; a second Drain has nothing to do; Delete
// removes the Node once.
func TestDrain(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	cs, err := srv.Clientset()
	require.NoError(t, err)
	ctx := t.Context()
	_, err = cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	node, other := ns+"-a", ns+"-b"
	for _, n := range []string{node, other} {
		_, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	web := map[string]string{"app": "web"}
	pod(t, cs, ns, "web-1", node, web, nil, "ReplicaSet")
	pod(t, cs, ns, "web-2", other, web, nil, "ReplicaSet")
	pod(t, cs, ns, "bare", node, nil, nil, "")
	pod(t, cs, ns, "agent", node, nil, nil, "DaemonSet")
	pod(t, cs, ns, "static", node, nil, map[string]string{kubenode.MirrorAnnotation: "x"}, "")
	one := intstr.FromInt32(1)
	pdb, err := cs.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: web}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	// No disruption controller runs here: the budget's status says it
	// allows none, as it does while its workload has one healthy pod.
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: 0, CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 2}
	pdb, err = cs.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{})
	require.NoError(t, err)

	res, err := kubenode.Drain(ctx, cs, node, kubenode.Options{Wait: 300 * time.Millisecond, Interval: 50 * time.Millisecond})
	var de *kubenode.DrainError
	require.ErrorAs(t, err, &de)
	require.ErrorIs(t, err, kubenode.ErrDrainTimeout)
	require.Len(t, de.Pending, 1)
	require.Contains(t, de.Pending[0], ns+"/web-1: ")
	require.Contains(t, de.Pending[0], "disruption budget")
	require.True(t, res.Cordoned)
	require.Equal(t, []string{ns + "/bare"}, res.Evicted)

	pdb.Status.DisruptionsAllowed, pdb.Status.CurrentHealthy, pdb.Status.DesiredHealthy = 1, 2, 1
	_, err = cs.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{})
	require.NoError(t, err)
	res, err = kubenode.Drain(ctx, cs, node, kubenode.Options{Wait: time.Minute, Interval: 50 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, kubenode.Result{Evicted: []string{ns + "/web-1"}}, res, "cordoned already")
	n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	require.NoError(t, err)
	require.True(t, n.Spec.Unschedulable)
	left, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var names []string
	for _, p := range left.Items {
		names = append(names, p.Name)
	}
	require.ElementsMatch(t, []string{"web-2", "agent", "static"}, names)

	res, err = kubenode.Drain(ctx, cs, node, kubenode.Options{})
	require.NoError(t, err)
	require.False(t, res.Changed())

	deleted, err := kubenode.Delete(ctx, cs, node)
	require.NoError(t, err)
	require.True(t, deleted)
	deleted, err = kubenode.Delete(ctx, cs, node)
	require.NoError(t, err)
	require.False(t, deleted)
	res, err = kubenode.Drain(ctx, cs, node, kubenode.Options{})
	require.NoError(t, err)
	require.Equal(t, kubenode.Result{Missing: true}, res)
}
