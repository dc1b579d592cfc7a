package talosupgrade_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
	"github.com/wdiazux/infra/lib/talosupgrade"
)

// kube is the package's real API server. Its tests run one after the
// other: the Node names come from the rig's inventory, and each rig's
// kubelets register or rewrite them when their configs are applied.
var kube kubetest.Package

func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }

// TestAKubeletNotReadyAfterItsUpgradeStopsTheRollout: the Kubernetes
// Ready gate against a real API server, its Nodes registered by the
// simulated nodes' kubelets. Every Node is Ready when the upgrade is
// planned, so each is waited for; the first node upgraded (the worker)
// comes back on the new Talos but its kubelet stays NotReady, so the
// rollout stops there with what the Node says, and no other node is
// upgraded.
func TestAKubeletNotReadyAfterItsUpgradeStopsTheRollout(t *testing.T) {
	srv := kube.Server(t)
	cs, err := srv.Clientset()
	require.NoError(t, err)
	r := newRig(t, nodesim.WithKubelets(cs))
	require.NoError(t, r.sim.KubeletErr())
	d := r.deps()
	d.Kube, err = talosupgrade.NewKubeNodes(srv.KubeconfigFile(), "")
	require.NoError(t, err)

	const worker = "talos-gpu-01"
	stalled := false
	p, err := talosupgrade.New(t.Context(), r.inv, d, talosupgrade.WithWait(time.Second), talosupgrade.WithInterval(20*time.Millisecond),
		talosupgrade.WithEvents(func(e plan.Event) {
			// The worker was sent its upgrade and is being waited for.
			if e.Step == talosupgrade.StepNode+" "+worker && strings.HasPrefix(e.Message, "waiting") && !stalled {
				stalled = true
				require.NoError(t, r.sim.SetStalled(worker, "kubelet", true))
			}
		}))
	require.NoError(t, err)
	require.Equal(t, "each node's Kubernetes node must be Ready again", p.Kube)
	for _, n := range p.Nodes {
		require.True(t, n.Kube, "%s is Ready before the upgrade, so it is waited for", n.Node)
	}

	_, err = p.Execute(t.Context())
	var nb *talosupgrade.NodeNotBackError
	require.ErrorAs(t, err, &nb)
	require.Equal(t, worker, nb.Node)
	require.Equal(t, []string{"Kubernetes node not Ready: Ready is Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)"}, nb.Saw)
	require.Equal(t, to, r.running(worker), "the node itself came back on the new Talos")
	require.Equal(t, []string{worker}, upgradedNodes(r.sim), "no other node is upgraded")
	require.Equal(t, []string{"talos-cp-01", "talos-cp-02", "talos-cp-03"}, nb.Untouched)
}
