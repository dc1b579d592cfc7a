package cluster_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/wdiazux/infra/internal/clustersim"
	"github.com/wdiazux/infra/lib/cluster"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// controlPlane is a control plane's entry in homelab.yaml (talos-cp-02 at
// 10.10.2.7, talos-cp-03 at .8: the infrastructure range ends at .10).
func controlPlane(n int) string {
	return fmt.Sprintf(`    - name: talos-cp-%02d
      role: controlplane
      vm_id: %d
      ip: 10.10.2.%d
      cores: 2
      memory_mib: 4096
      os_disk_gib: 150
`, n, 109+n, 5+n)
}

// threeControlPlanes adds talos-cp-02 and -03 and the VIP, as a person
// scaling the cluster edits homelab.yaml.
func threeControlPlanes(text string) string {
	text = strings.Replace(text, "  install_disk: /dev/sda\n", "  install_disk: /dev/sda\n  vip: 10.10.2.9\n", 1)
	return strings.Replace(text, "\nkubernetes:", controlPlane(2)+controlPlane(3)+"\nkubernetes:", 1)
}

// without removes the nodes' entries.
func without(names ...string) func(string) string {
	return func(text string) string {
		for _, name := range names {
			text = regexp.MustCompile(`(?m)^    - name: `+name+`\n(?:      .*\n)+`).ReplaceAllString(text, "")
		}
		return text
	}
}

// endpointOf is the cluster endpoint of a generated node config.
func endpointOf(t *testing.T, h *clustersim.Harness, node string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.Root, talosgen.DefaultOutDir, node+".yaml"))
	require.NoError(t, err)
	cfg, err := configloader.NewFromBytes(data)
	require.NoError(t, err)
	return cfg.Cluster().Endpoint().String()
}

// longhornReplicas requires Longhorn's volume replica counts, as its
// chart renders them, to be n: the default setting for new volumes and the
// default StorageClass's numberOfReplicas.
func longhornReplicas(t *testing.T, cs kubernetes.Interface, n int) {
	t.Helper()
	settings, err := cs.CoreV1().ConfigMaps("longhorn-system").Get(t.Context(), "longhorn-default-setting", metav1.GetOptions{})
	require.NoError(t, err)
	require.Contains(t, settings.Data["default-setting.yaml"], fmt.Sprintf("default-replica-count: %q", strconv.Itoa(n)))
	class, err := cs.CoreV1().ConfigMaps("longhorn-system").Get(t.Context(), "longhorn-storageclass", metav1.GetOptions{})
	require.NoError(t, err)
	require.Contains(t, class.Data["storageclass.yaml"], fmt.Sprintf("numberOfReplicas: %q", strconv.Itoa(n)))
}

// unchanged runs Up and requires that no step changed anything.
func unchanged(t *testing.T, h *clustersim.Harness) {
	t.Helper()
	before := len(h.Nodes.Requests())
	rep, err := up(t.Context(), t, h)
	require.NoError(t, err)
	for _, s := range rep.Steps {
		require.False(t, s.Changed, "%s changed on a re-run: %s", s.Step, s.Detail)
	}
	require.Empty(t, nodeCalls(h.Nodes.Requests()[before:]))
}

// voting are etcd's members' hostnames, each a voting member.
func voting(t *testing.T, h *clustersim.Harness) []string {
	t.Helper()
	var out []string
	for _, m := range h.Nodes.Members() {
		require.False(t, m.IsLearner, m.Hostname)
		out = append(out, m.Hostname)
	}
	return out
}

// workload puts a pod bound to each node, with a PodDisruptionBudget over
// them that allows one disruption at a time (its status written as the
// disruption controller would), and a Node object per node (no kubelet
// registers them here).
func workload(t *testing.T, cs kubernetes.Interface, nodes ...string) {
	t.Helper()
	ctx := t.Context()
	_, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	labels := map[string]string{"app": "web"}
	for _, n := range nodes {
		_, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		require.NoError(t, err)
		p, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + n, Labels: labels},
			Spec: corev1.PodSpec{NodeName: n, TerminationGracePeriodSeconds: new(int64),
				Containers: []corev1.Container{{Name: "web", Image: "registry.invalid/web:1"}}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		// Running and Ready, as a kubelet reports it: the budget counts it.
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		_, err = cs.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	one := intstr.FromInt32(1)
	pdb, err := cs.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: labels}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: int32(len(nodes) - 1),
		CurrentHealthy: int32(len(nodes)), DesiredHealthy: 1, ExpectedPods: int32(len(nodes))}
	_, err = cs.PolicyV1().PodDisruptionBudgets("default").UpdateStatus(ctx, pdb, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// TestScale is the acceptance for scaling: one control plane to
// three with the VIP (new VMs, configs, the new control planes join etcd
// without a second bootstrap, the existing one takes its changed config
// without a reboot, the add-ons' replica counts raised), three to two
// refused by the inventory (etcd keeps an odd membership), then three to
// one: each leaving node drained, its etcd member removed, its Node
// deleted, and only then its VM destroyed; a re-run after each change has
// nothing to do.
func TestScale(t *testing.T) {
	var hook atomic.Pointer[func(nodesim.Request)]
	h := clustersim.New(t, homelab, clustersim.WithKube(), clustersim.WithNodeOptions(nodesim.WithRequestHook(func(r nodesim.Request) {
		if f := hook.Load(); f != nil {
			(*f)(r)
		}
	})))
	ctx := t.Context()
	_, err := up(ctx, t, h)
	require.NoError(t, err)
	require.Equal(t, "https://10.10.2.10:6443", endpointOf(t, h, "talos-cp-01"))
	cs, err := h.Kube.Clientset()
	require.NoError(t, err)

	// 1 → 3 control planes.
	require.NoError(t, h.Edit(t, threeControlPlanes))
	dry, err := up(ctx, t, h, cluster.WithDryRun())
	require.NoError(t, err)
	require.Equal(t, "no node left the inventory, nothing to do", stepsOf(dry)[cluster.StepRemove].Detail)
	require.Equal(t, "would change: 2 VM(s) created, 0 updated, 0 replaced, 0 destroyed", stepsOf(dry)[cluster.StepNodeVMs].Detail)

	before := len(h.Nodes.Requests())
	rep, err := up(ctx, t, h)
	require.NoError(t, err)
	steps := stepsOf(rep)
	require.Equal(t, "2 VM(s) created, 0 updated, 0 replaced, 0 destroyed (terraform)", steps[cluster.StepNodeVMs].Detail)
	require.Contains(t, steps[cluster.StepConfigs].Detail, "talos/generated/talos-cp-01.yaml")
	require.Contains(t, steps[cluster.StepApply].Detail, "talos-cp-01: configured, config applied (no-reboot)", "the existing node takes the VIP, endpoint and SANs without a reboot")
	require.Contains(t, steps[cluster.StepApply].Detail, "talos-cp-02: maintenance mode, config applied (reboot), now configured")
	require.Contains(t, steps[cluster.StepApply].Detail, "talos-cp-03: maintenance mode, config applied (reboot), now configured")
	require.Contains(t, steps[cluster.StepBootstrap].Detail, "etcd already runs")
	require.Equal(t, []string{"talos-cp-01 ApplyConfiguration", "talos-cp-02 ApplyConfiguration", "talos-cp-03 ApplyConfiguration"},
		nodeCalls(h.Nodes.Requests()[before:]), "the new control planes join: no second bootstrap")
	require.Equal(t, "healthy: talos-cp-01 v1.12.7, 8/8 services, etcd 3 member(s); talos-cp-02 v1.12.7, 8/8 services, etcd 3 member(s); "+
		"talos-cp-03 v1.12.7, 8/8 services, etcd 3 member(s)", steps[cluster.StepHealth].Detail)
	require.Equal(t, []string{"talos-cp-01", "talos-cp-02", "talos-cp-03"}, voting(t, h))
	for _, n := range []string{"talos-cp-01", "talos-cp-02", "talos-cp-03"} {
		require.Equal(t, "https://10.10.2.9:6443", endpointOf(t, h, n), "the VIP is the endpoint")
	}
	require.True(t, steps[cluster.StepAddons].Changed)
	require.Contains(t, steps[cluster.StepAddons].Detail, "upgraded")
	op, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "cilium-operator", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(2), *op.Spec.Replicas, "the Cilium operator runs min(2, nodes) replicas")
	longhornReplicas(t, cs, 3)
	unchanged(t, h)

	// 3 → 2 is refused: etcd keeps an odd membership.
	err = h.Edit(t, without("talos-cp-03"))
	require.ErrorContains(t, err, "2 control-plane nodes: etcd needs an odd number (1 or 3) to keep quorum")

	// 3 → 1, keeping the VIP.
	workload(t, cs, "talos-cp-01", "talos-cp-02", "talos-cp-03")
	vmid := map[string]int{"talos-cp-02": 111, "talos-cp-03": 112}
	var mu sync.Mutex
	var problems []string
	atLeave, atNodeDeleted := map[string]int{}, map[string]int{}
	check := func(r nodesim.Request) {
		if r.Method != "EtcdLeaveCluster" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		atLeave[r.Node] = len(h.Sim.Requests())
		n, err := cs.CoreV1().Nodes().Get(ctx, r.Node, metav1.GetOptions{})
		if err != nil || !n.Spec.Unschedulable {
			problems = append(problems, fmt.Sprintf("%s left etcd before it was cordoned (%v)", r.Node, err))
		}
		pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", r.Node).String()})
		if err != nil || len(pods.Items) > 0 {
			problems = append(problems, fmt.Sprintf("%s left etcd before it was drained (%v)", r.Node, err))
		}
		if _, ok := h.Sim.Guest(vmid[r.Node]); !ok {
			problems = append(problems, r.Node+" left etcd after its VM was destroyed")
		}
	}
	hook.Store(&check)
	w, err := cs.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	defer w.Stop()
	go func() {
		for ev := range w.ResultChan() {
			if n, ok := ev.Object.(*corev1.Node); ok && ev.Type == watch.Deleted {
				mu.Lock()
				atNodeDeleted[n.Name] = len(h.Sim.Requests())
				mu.Unlock()
			}
		}
	}()

	require.NoError(t, h.Edit(t, without("talos-cp-02", "talos-cp-03")))
	dry, err = up(ctx, t, h, cluster.WithDryRun())
	require.NoError(t, err)
	require.Regexp(t, `^would remove talos-cp-02 \(controlplane\): drain, then remove etcd member talos-cp-02 \([0-9a-f]{16}\), then delete its Node, `+
		`then destroy VM 111; talos-cp-03 \(controlplane\): drain, then remove etcd member talos-cp-03 \([0-9a-f]{16}\), then delete its Node, then destroy VM 112$`,
		stepsOf(dry)[cluster.StepRemove].Detail)
	require.Equal(t, cluster.Steps()[3:], dry.Unchecked)
	require.Len(t, voting(t, h), 3, "the dry run changed nothing")

	rep, err = up(ctx, t, h)
	require.NoError(t, err)
	steps = stepsOf(rep)
	require.Regexp(t, `^talos-cp-02: drained \(1 pod\(s\) evicted\), left etcd \(member talos-cp-02 \([0-9a-f]{16}\)\), Node deleted; `+
		`talos-cp-03: drained \(1 pod\(s\) evicted\), left etcd \(member talos-cp-03 \([0-9a-f]{16}\)\), Node deleted; 2 VM\(s\) destroyed \(terraform\)$`,
		steps[cluster.StepRemove].Detail)
	require.Equal(t, "nothing to do", steps[cluster.StepNodeVMs].Detail)
	require.Equal(t, "healthy: talos-cp-01 v1.12.7, 8/8 services, etcd 1 member(s)", steps[cluster.StepHealth].Detail)
	require.Equal(t, []string{"talos-cp-01"}, voting(t, h))
	require.Equal(t, "https://10.10.2.9:6443", endpointOf(t, h, "talos-cp-01"), "the VIP stays the endpoint")
	require.Contains(t, steps[cluster.StepAddons].Detail, "upgraded")
	op, err = cs.AppsV1().Deployments("kube-system").Get(ctx, "cilium-operator", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(1), *op.Spec.Replicas)
	longhornReplicas(t, cs, 1)

	// The order: drained, then etcd, then the Node, then the VM.
	mu.Lock()
	require.Empty(t, problems)
	reqs := h.Sim.Requests()
	for name, id := range vmid {
		deleted := -1
		for i, r := range reqs {
			if r.Method == "DELETE" && strings.HasSuffix(strings.TrimSuffix(r.Path, "/"), fmt.Sprintf("/qemu/%d", id)) {
				deleted = i
			}
		}
		require.Contains(t, atLeave, name)
		require.Contains(t, atNodeDeleted, name)
		require.Positive(t, deleted, "%s: its VM was destroyed", name)
		require.LessOrEqual(t, atLeave[name], atNodeDeleted[name], "%s: etcd before the Node", name)
		require.Less(t, atNodeDeleted[name], deleted, "%s: the Node before the VM", name)
	}
	mu.Unlock()
	_, err = cs.CoreV1().Nodes().Get(ctx, "talos-cp-01", metav1.GetOptions{})
	require.NoError(t, err, "the remaining node is left alone")
	unchanged(t, h)
}
