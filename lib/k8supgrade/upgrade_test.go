package k8supgrade_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wdiazux/infra/lib/k8supgrade"
	"github.com/wdiazux/infra/lib/talosgen"
)

// TestPathIsCheckedFirst: a target the nodes' Talos does not support, a
// skipped minor version and a downgrade are refused before any node is
// sent a config.
func TestPathIsCheckedFirst(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		want           k8supgrade.UnsupportedError
	}{
		{name: "newer than Talos 1.12 supports", from: "v1.35.4", to: "v1.36.0",
			want: k8supgrade.UnsupportedError{Node: "talos-cp-01", To: "v1.36.0", Talos: "v1.12.7",
				Reason: "Talos v1.12.7 does not support it (version of Kubernetes 1.36.0 is too new to be used with Talos 1.12.7): set kubernetes.version to one it supports, or upgrade Talos first"}},
		{name: "older than Talos 1.12 supports", from: "v1.30.1", to: "v1.29.9",
			want: k8supgrade.UnsupportedError{Node: "talos-cp-01", To: "v1.29.9", Talos: "v1.12.7",
				Reason: "Talos v1.12.7 does not support it (version of Kubernetes 1.29.9 is too old to be used with Talos 1.12.7): set kubernetes.version to one it supports, or upgrade Talos first"}},
		{name: "two minor versions at once", from: "v1.33.7", to: "v1.35.4",
			want: k8supgrade.UnsupportedError{Node: "talos-cp-01", Component: "kube-apiserver", From: "v1.33.7", To: "v1.35.4",
				Reason: "Kubernetes upgrades one minor version at a time: set kubernetes.version to v1.34.x first"}},
		{name: "downgrade", from: "v1.35.4", to: "v1.34.4",
			want: k8supgrade.UnsupportedError{Node: "talos-cp-01", Component: "kube-apiserver", From: "v1.35.4", To: "v1.34.4",
				Reason: "that is a downgrade, which Talos does not do: set kubernetes.version to v1.35.4 or later"}},
		{name: "patch downgrade", from: "v1.35.4", to: "v1.35.1",
			want: k8supgrade.UnsupportedError{Node: "talos-cp-01", Component: "kube-apiserver", From: "v1.35.4", To: "v1.35.1",
				Reason: "that is a downgrade, which Talos does not do: set kubernetes.version to v1.35.4 or later"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, twoNodes, tc.from)
			generated := readConfigs(t, e)
			plan, err := e.upgrade(t, tc.to)
			require.Nil(t, plan)
			var ue *k8supgrade.UnsupportedError
			require.ErrorAs(t, err, &ue)
			require.ErrorIs(t, err, k8supgrade.ErrUnsupported)
			require.Equal(t, tc.want, *ue)
			require.Empty(t, e.applied(t), "no node is sent a config")
			require.Equal(t, generated, readConfigs(t, e), "no config is written")
		})
	}
}

// TestUpgradeFollowsTalossOrder: three control planes and a worker go
// from 1.34 to 1.35 in Talos's order, one component of one node at a
// time, each applied without a reboot with the components after it held
// back, and each running its new version before the next step starts.
func TestUpgradeFollowsTalossOrder(t *testing.T) {
	e := newEnv(t, threeNodes, "v1.34.4")
	var started []string
	var prev *k8supgrade.Step
	plan, err := e.upgrade(t, "v1.35.4", func(o *k8supgrade.Options) {
		o.Progress = func(s k8supgrade.Step, applied bool) {
			if applied {
				return
			}
			started = append(started, s.Component+" "+s.Node+" "+s.From+" -> "+s.To)
			if prev != nil {
				require.Equal(t, "", runsNow(t, e, *prev), "the step before %s on %s runs its new version", s.Component, s.Node)
			}
			prev = &s
		}
	})
	require.NoError(t, err)
	require.Len(t, plan.Steps, 13)
	require.Equal(t, []string{
		"kube-apiserver talos-cp-01 v1.34.4 -> v1.35.4",
		"kube-apiserver talos-cp-02 v1.34.4 -> v1.35.4",
		"kube-apiserver talos-cp-03 v1.34.4 -> v1.35.4",
		"kube-controller-manager talos-cp-01 v1.34.4 -> v1.35.4",
		"kube-controller-manager talos-cp-02 v1.34.4 -> v1.35.4",
		"kube-controller-manager talos-cp-03 v1.34.4 -> v1.35.4",
		"kube-scheduler talos-cp-01 v1.34.4 -> v1.35.4",
		"kube-scheduler talos-cp-02 v1.34.4 -> v1.35.4",
		"kube-scheduler talos-cp-03 v1.34.4 -> v1.35.4",
		"kubelet talos-cp-01 v1.34.4 -> v1.35.4",
		"kubelet talos-cp-02 v1.34.4 -> v1.35.4",
		"kubelet talos-cp-03 v1.34.4 -> v1.35.4",
		"kubelet talos-gpu-01 v1.34.4 -> v1.35.4",
	}, started)
	require.Equal(t, "", runsNow(t, e, *prev), "the last step runs its new version")
	require.Equal(t, talosOrder(), e.applied(t))
	// Each node's last config is the regenerated one, byte for byte.
	last := map[string][]byte{}
	for _, r := range e.sim.Requests() {
		if r.Method == "ApplyConfiguration" {
			last[r.Node] = r.Config
		}
	}
	for node, data := range readConfigs(t, e) {
		require.True(t, bytes.Equal(data, last[node]), "%s's last config is talos/generated/%s.yaml", node, node)
	}
	nodes, err := e.kube.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, nodes.Items, 4)
	for _, n := range nodes.Items {
		require.Equal(t, "v1.35.4", n.Status.NodeInfo.KubeletVersion, n.Name)
	}

	// A re-run has nothing to do and sends nothing.
	plan, err = e.upgrade(t, "v1.35.4")
	require.NoError(t, err)
	require.True(t, plan.Nothing())
	require.Empty(t, e.applied(t))
	var out bytes.Buffer
	require.NoError(t, plan.WriteTable(&out))
	require.Equal(t, "Kubernetes v1.35.4: every component of every node runs it, the 13 bootstrap manifest object(s) of talos-cp-01 are applied; nothing to do.\n", out.String())
}

// TestAComponentThatDoesNotComeUpStops: a controller manager that does
// not come up on the new version stops the upgrade there, naming it; the
// steps after it are not done; a re-run once it runs resumes after it.
func TestAComponentThatDoesNotComeUpStops(t *testing.T) {
	e := newEnv(t, threeNodes, "v1.34.4")
	require.NoError(t, e.sim.SetStalled("talos-cp-02", "kube-controller-manager", true))
	_, err := e.upgrade(t, "v1.35.4", func(o *k8supgrade.Options) { o.Wait = 200 * time.Millisecond })
	var ce *k8supgrade.ComponentError
	require.ErrorAs(t, err, &ce)
	require.ErrorIs(t, err, k8supgrade.ErrNotUp)
	require.Equal(t, "kube-controller-manager", ce.Step.Component)
	require.Equal(t, "talos-cp-02", ce.Step.Node)
	require.Equal(t, "pod kube-system/kube-controller-manager-talos-cp-02 runs registry.k8s.io/kube-controller-manager:v1.35.4 but is not Ready (CrashLoopBackOff: back-off restarting failed container kube-controller-manager)", ce.State)
	require.Contains(t, err.Error(), "kube-controller-manager on talos-cp-02 did not come up on v1.35.4 within 200ms")
	require.Equal(t, talosOrder()[:5], e.applied(t), "nothing after the stalled component is sent")

	// Still stalled: the re-run waits on it again and sends nothing.
	_, err = e.upgrade(t, "v1.35.4", func(o *k8supgrade.Options) { o.Wait = 100 * time.Millisecond })
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "talos-cp-02", ce.Step.Node)
	require.False(t, ce.Step.Apply, "its config is already applied")
	require.Empty(t, e.applied(t))

	// Once it comes up, a re-run resumes after it.
	require.NoError(t, e.sim.SetStalled("talos-cp-02", "kube-controller-manager", false))
	plan, err := e.upgrade(t, "v1.35.4")
	require.NoError(t, err)
	require.Len(t, plan.Steps, 8)
	require.Equal(t, talosOrder()[5:], e.applied(t), "the re-run sends the rest")
}

// TestAKubeletThatDoesNotComeUpStops: a worker's kubelet that does not
// start on the new version stops the upgrade with its Node's state.
func TestAKubeletThatDoesNotComeUpStops(t *testing.T) {
	e := newEnv(t, twoNodes, "v1.34.4")
	require.NoError(t, e.sim.SetStalled("talos-gpu-01", "kubelet", true))
	_, err := e.upgrade(t, "v1.35.4", func(o *k8supgrade.Options) { o.Wait = 100 * time.Millisecond })
	var ce *k8supgrade.ComponentError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, k8supgrade.Step{Component: "kubelet", Node: "talos-gpu-01", From: "v1.34.4", To: "v1.35.4",
		FromImage: "ghcr.io/siderolabs/kubelet:v1.34.4", ToImage: "ghcr.io/siderolabs/kubelet:v1.35.4", Apply: true}, ce.Step)
	require.Equal(t, "Node talos-gpu-01 reports kubelet v1.34.4", ce.State)
	require.Len(t, e.applied(t), 5, "the control plane's four steps, then the worker's kubelet")
}

// TestDryRun prints the plan (golden), writes no config and sends none.
func TestDryRun(t *testing.T) {
	e := newEnv(t, threeNodes, "v1.34.4")
	generated := readConfigs(t, e)
	plan, err := e.upgrade(t, "v1.35.4", func(o *k8supgrade.Options) { o.DryRun = true })
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, plan.WriteTable(&out))
	// The bootstrap token's ID is the test bundle's, random.
	golden(t, "dryrun.golden", regexp.MustCompile(`bootstrap-token-[0-9a-z]{6}`).ReplaceAllString(out.String(), "bootstrap-token-<id>"))
	require.Empty(t, e.applied(t))
	require.Equal(t, generated, readConfigs(t, e), "a dry run writes no config")
}

// readConfigs reads the generated configs by node.
func readConfigs(t *testing.T, e *env) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, n := range e.inv.Talos.Nodes {
		data, err := os.ReadFile(filepath.Join(e.root, talosgen.DefaultOutDir, n.Name+".yaml"))
		require.NoError(t, err)
		out[n.Name] = data
	}
	return out
}

// runsNow is what keeps a step's component from running its new version.
func runsNow(t *testing.T, e *env, s k8supgrade.Step) string {
	t.Helper()
	state, err := k8supgrade.Runs(context.Background(), e.kube, s)
	require.NoError(t, err)
	return state
}

// cpConfig is the config line of a control plane whose first n components
// (in Components order) have v1.35.4 and the others v1.34.4.
func cpConfig(node string, n int) string {
	line := node + ":"
	for i, comp := range k8supgrade.Components {
		v := "v1.34.4"
		if i < n {
			v = "v1.35.4"
		}
		line += " " + comp + "=" + v
	}
	return line
}

// talosOrder is what the three-node upgrade sends, in order: each control
// plane's config with one more component upgraded, component by
// component, then the worker's.
func talosOrder() []string {
	var out []string
	for n := 1; n <= len(k8supgrade.Components); n++ {
		for _, node := range []string{"talos-cp-01", "talos-cp-02", "talos-cp-03"} {
			out = append(out, cpConfig(node, n))
		}
	}
	return append(out, "talos-gpu-01: kubelet=v1.35.4")
}

// TestPathIsTalossUpgradePath: a component's path is checked with Talos's
// own upgrade path (go-kubernetes upgrade.Path, what talosctl upgrade-k8s
// checks): one minor version it does not list is refused even where the
// one-minor-at-a-time rule alone would allow it; the rules it leaves open
// (a patch downgrade) are still ours.
func TestPathIsTalossUpgradePath(t *testing.T) {
	const api = "registry.k8s.io/kube-apiserver:"
	for _, tc := range []struct {
		name, from, to, reason string
	}{
		{name: "a path Talos lists", from: "v1.34.4", to: "v1.35.4"},
		{name: "a patch release", from: "v1.35.1", to: "v1.35.4"},
		{name: "one minor version Talos does not list", from: "v1.36.0", to: "v1.37.0",
			reason: "Talos's Kubernetes upgrade path 1.36->1.37 is not one it supports (github.com/siderolabs/go-kubernetes upgrade.Path, as talosctl upgrade-k8s checks): set kubernetes.version to a version it supports from v1.36.0"},
		{name: "two minor versions", from: "v1.33.7", to: "v1.35.4",
			reason: "Kubernetes upgrades one minor version at a time: set kubernetes.version to v1.34.x first"},
		{name: "patch downgrade", from: "v1.35.4", to: "v1.35.1",
			reason: "that is a downgrade, which Talos does not do: set kubernetes.version to v1.35.4 or later"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := k8supgrade.CheckPath("talos-cp-01", "kube-apiserver", api+tc.from, api+tc.to)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			var ue *k8supgrade.UnsupportedError
			require.ErrorAs(t, err, &ue)
			require.Equal(t, k8supgrade.UnsupportedError{Node: "talos-cp-01", Component: "kube-apiserver", From: tc.from, To: tc.to, Reason: tc.reason}, *ue)
		})
	}
}

// TestBootstrapManifestsAreSynced: after the kubelets, the bootstrap
// manifests a control plane renders (its k8s.Manifest resources: CoreDNS,
// the bootstrap token, the CSR and Talos RBAC bindings, the in-cluster
// kubeconfig) are applied to the real API server and their rollout waited
// for, as talosctl upgrade-k8s does; a second run changes nothing.
func TestBootstrapManifestsAreSynced(t *testing.T) {
	e := newEnv(t, twoNodes, "v1.34.4")
	plan, err := e.upgrade(t, "v1.35.4")
	require.NoError(t, err)
	require.Equal(t, "talos-cp-01", plan.ManifestsFrom)
	require.Equal(t, 13, plan.ManifestObjects)
	require.Len(t, plan.Manifests, 13, "every object is created")
	for _, m := range plan.Manifests {
		require.True(t, m.Create, m.Path)
	}
	require.Contains(t, paths(plan.Manifests), "apps/v1.Deployment/kube-system/coredns")
	ctx := t.Context()
	dns, err := e.kube.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "registry.k8s.io/coredns/coredns:v1.13.2", dns.Spec.Template.Spec.Containers[0].Image)
	require.Equal(t, int32(2), dns.Status.ReadyReplicas, "its rollout was waited for")
	svc, err := e.kube.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "10.96.0.10", svc.Spec.ClusterIP)
	for _, name := range []string{"system-bootstrap-node-bootstrapper", "system-bootstrap-approve-node-client-csr", "system-bootstrap-node-renewal", "system:talos-nodes", "system:coredns"} {
		_, err := e.kube.RbacV1().ClusterRoleBindings().Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err, name)
	}
	_, err = e.kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "kubeconfig-in-cluster", metav1.GetOptions{})
	require.NoError(t, err)

	// A second run: nothing to upgrade, every object as rendered.
	before, err := e.kube.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	require.NoError(t, err)
	plan, err = e.upgrade(t, "v1.35.4")
	require.NoError(t, err)
	require.True(t, plan.Nothing())
	require.Empty(t, plan.Manifests)
	after, err := e.kube.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, before.ResourceVersion, after.ResourceVersion, "the second run changes nothing")

	// An object changed by hand is updated back by the next run.
	after.Spec.Template.Spec.Containers[0].Image = "registry.k8s.io/coredns/coredns:v0.0.1"
	_, err = e.kube.AppsV1().Deployments("kube-system").Update(ctx, after, metav1.UpdateOptions{})
	require.NoError(t, err)
	plan, err = e.upgrade(t, "v1.35.4", func(o *k8supgrade.Options) { o.DryRun = true })
	require.NoError(t, err)
	require.Len(t, plan.Manifests, 1)
	require.Equal(t, "apps/v1.Deployment/kube-system/coredns", plan.Manifests[0].Path)
	require.False(t, plan.Manifests[0].Create)
	require.Contains(t, plan.Manifests[0].Diff, "-        image: registry.k8s.io/coredns/coredns:v0.0.1")
	_, err = e.upgrade(t, "v1.35.4")
	require.NoError(t, err)
	dns, err = e.kube.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "registry.k8s.io/coredns/coredns:v1.13.2", dns.Spec.Template.Spec.Containers[0].Image)
}

func paths(ms []k8supgrade.ManifestChange) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Path)
	}
	return out
}

// TestTalossPreUpgradeChecksRefuse: Talos's pre-upgrade checks
// (go-kubernetes upgrade.Checks) read the nodes' StaticPod and KubeletSpec
// resources and the API server before anything changes: a kubelet flag
// and a feature gate Kubernetes 1.35 removed refuse the upgrade with what
// was found where, and no node is sent a config.
func TestTalossPreUpgradeChecksRefuse(t *testing.T) {
	e := newEnv(t, twoNodes, "v1.34.4", `machine:
  kubelet:
    extraArgs:
      pod-infra-container-image: registry.k8s.io/pause:3.10
cluster:
  apiServer:
    extraArgs:
      feature-gates: SizeMemoryBackedVolumes=true
`)
	generated := readConfigs(t, e)
	plan, err := e.upgrade(t, "v1.35.4")
	require.Nil(t, plan)
	require.ErrorIs(t, err, k8supgrade.ErrUnsupported)
	var ce *k8supgrade.CheckError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "1.34->1.35", ce.Path)
	require.Equal(t, []k8supgrade.Finding{
		{Node: "talos-cp-01", Component: "kube-apiserver", What: "removed feature gate", Value: "SizeMemoryBackedVolumes"},
		{Node: "talos-cp-01", Component: "kubelet", What: "removed flag", Value: "pod-infra-container-image"},
		{Node: "talos-gpu-01", Component: "kubelet", What: "removed flag", Value: "pod-infra-container-image"},
	}, ce.Findings)
	require.Contains(t, err.Error(), "talos-gpu-01  kubelet         removed flag          pod-infra-container-image")
	require.Empty(t, e.applied(t), "no node is sent a config")
	require.Equal(t, generated, readConfigs(t, e), "no config is written")
}
