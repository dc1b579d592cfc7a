package talosnode_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

const (
	oldSchematic = "1111111111111111111111111111111111111111111111111111111111111111"
	newSchematic = "2222222222222222222222222222222222222222222222222222222222222222"
	newImage     = "factory.example/installer/" + newSchematic + ":v1.12.8"
)

// waitRunning polls a node until it answers again after a reboot.
func waitRunning(t *testing.T, e *env, node string) talosnode.Running {
	t.Helper()
	var got talosnode.Running
	require.Eventually(t, func() bool {
		var err error
		got, err = e.cluster.Running(t.Context(), node)
		return err == nil
	}, 20*time.Second, 20*time.Millisecond, "%s never came back", node)
	return got
}

func TestUpgradeRebootsIntoTheImage(t *testing.T) {
	e := newEnv(t, threeNodesFile, nodesim.WithVersion("v1.12.7"), nodesim.WithSchematic(oldSchematic))
	e.ready(t)

	got, err := e.cluster.Running(t.Context(), "talos-gpu-01")
	require.NoError(t, err)
	require.Equal(t, talosnode.Running{Node: "talos-gpu-01", Version: "v1.12.7", Schematic: oldSchematic}, got)

	require.NoError(t, e.cluster.Upgrade(t.Context(), "talos-gpu-01", newImage))
	reqs := e.h.Requests("Upgrade")
	require.Len(t, reqs, 1)
	require.Equal(t, nodesim.Request{Node: "talos-gpu-01", Method: "Upgrade", Authenticated: true, Image: newImage}, reqs[0])
	require.True(t, e.sim.Rebooting("talos-gpu-01") || func() bool { v, _ := e.sim.Running("talos-gpu-01"); return v == "v1.12.8" }(),
		"the node rebooted after its answer")

	got = waitRunning(t, e, "talos-gpu-01")
	require.Equal(t, talosnode.Running{Node: "talos-gpu-01", Version: "v1.12.8", Schematic: newSchematic}, got)
	other, err := e.cluster.Running(t.Context(), "talos-cp-01")
	require.NoError(t, err)
	require.Equal(t, "v1.12.7", other.Version, "only the upgraded node changed")
}

func TestUpgradeWhileRebootingIsANodeError(t *testing.T) {
	e := newEnv(t, threeNodesFile, nodesim.WithSchematic(oldSchematic), nodesim.WithRebootTime(time.Hour))
	e.ready(t)
	require.NoError(t, e.cluster.Upgrade(t.Context(), "talos-gpu-01", newImage))
	require.True(t, e.sim.Rebooting("talos-gpu-01"))
	_, err := e.cluster.Running(t.Context(), "talos-gpu-01")
	var ne *talosnode.NodeError
	require.ErrorAs(t, err, &ne)
	require.Equal(t, "talos-gpu-01", ne.Node)
	require.Contains(t, err.Error(), "connection refused")
}

func TestUpgradeRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		node, image string
		setup       func(*nodesim.Sim)
		want        string
		// member is the node whose etcd member ID want names (%016x).
		member string
	}{
		"not an installer image": {node: "talos-gpu-01", image: "factory.example/metal:v1.12.8",
			want: `error validating installer image "factory.example/metal:v1.12.8"`},
		"etcd member unhealthy": {node: "talos-cp-01", image: newImage,
			setup: func(s *nodesim.Sim) { s.SetUnhealthy("talos-cp-03", "etcd", "no leader") },
			want:  "error validating etcd for upgrade: etcd member %016x is not healthy; all members must be healthy to perform an upgrade: no leader", member: "talos-cp-03"},
		"etcd member down": {node: "talos-cp-01", image: newImage,
			setup: func(s *nodesim.Sim) { s.SetDown("talos-cp-02", true) },
			want:  "etcd member %016x is not healthy", member: "talos-cp-02"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, threeNodesFile, nodesim.WithSchematic(oldSchematic))
			e.ready(t)
			want := tc.want
			if tc.member != "" { // the members as they were before the fault
				want = fmt.Sprintf(want, memberID(t, e.sim, tc.member))
			}
			if tc.setup != nil {
				tc.setup(e.sim)
			}
			err := e.cluster.Upgrade(t.Context(), tc.node, tc.image)
			var refused *talosnode.UpgradeRefusedError
			require.ErrorAs(t, err, &refused)
			require.Equal(t, tc.node, refused.Node)
			require.Equal(t, tc.image, refused.Image)
			require.Contains(t, refused.Reason, want)
			require.True(t, strings.HasPrefix(err.Error(), tc.node+" ("), err.Error())
			require.False(t, e.sim.Rebooting(tc.node), "a refused upgrade changes nothing")
			v, s := e.sim.Running(tc.node)
			require.Equal(t, []string{"v1.12.7", oldSchematic}, []string{v, s})
		})
	}
}

func TestUpgradeFaults(t *testing.T) {
	for name, tc := range map[string]struct {
		fault         nodesim.UpgradeFault
		wantVersion   string
		wantSchematic string
		wantProblem   string
	}{
		"comes back on the old version": {fault: nodesim.UpgradeKeepsOldVersion, wantVersion: "v1.12.7", wantSchematic: oldSchematic,
			wantProblem: "runs Talos v1.12.7"},
		"comes back unhealthy": {fault: nodesim.UpgradeUnhealthy, wantVersion: "v1.12.8", wantSchematic: newSchematic,
			wantProblem: "service kubelet is unhealthy"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, threeNodesFile, nodesim.WithSchematic(oldSchematic))
			e.ready(t)
			e.inv.Talos.Version = "v1.12.8" // the inventory moved on
			e.sim.SetUpgradeFault("talos-gpu-01", tc.fault)
			require.NoError(t, e.cluster.Upgrade(t.Context(), "talos-gpu-01", newImage))
			got := waitRunning(t, e, "talos-gpu-01")
			require.Equal(t, talosnode.Running{Node: "talos-gpu-01", Version: tc.wantVersion, Schematic: tc.wantSchematic}, got)
			h, err := e.cluster.CheckNode(t.Context(), "talos-gpu-01")
			require.NoError(t, err)
			require.NotEmpty(t, h.Problems)
			require.Contains(t, strings.Join(h.Problems, "\n"), tc.wantProblem)
		})
	}

	t.Run("stays down until power-cycled, then runs the old image", func(t *testing.T) {
		e := newEnv(t, threeNodesFile, nodesim.WithSchematic(oldSchematic))
		e.ready(t)
		e.sim.SetUpgradeFault("talos-gpu-01", nodesim.UpgradeStaysDown)
		require.NoError(t, e.cluster.Upgrade(t.Context(), "talos-gpu-01", newImage))
		require.True(t, e.sim.Rebooting("talos-gpu-01"))
		_, err := e.cluster.Running(t.Context(), "talos-gpu-01")
		require.Error(t, err)
		require.NoError(t, e.sim.PowerCycle("talos-gpu-01"))
		got, err := e.cluster.Running(t.Context(), "talos-gpu-01")
		require.NoError(t, err)
		require.Equal(t, talosnode.Running{Node: "talos-gpu-01", Version: "v1.12.7", Schematic: oldSchematic}, got)
	})
}

func TestRunningWithoutASchematic(t *testing.T) {
	e := newEnv(t, threeNodesFile)
	e.ready(t)
	got, err := e.cluster.Running(t.Context(), "talos-cp-02")
	require.NoError(t, err)
	require.Equal(t, talosnode.Running{Node: "talos-cp-02", Version: "v1.12.7"}, got, "an image not from the factory reports no schematic")
	_, err = e.cluster.Running(t.Context(), "talos-cp-09")
	require.ErrorIs(t, err, talosnode.ErrUnknownNode)
}

// memberID is the etcd member ID of a node's hostname, as the simulator
// lists it.
func memberID(t *testing.T, sim *nodesim.Sim, hostname string) uint64 {
	t.Helper()
	for _, m := range sim.Members() {
		if m.GetHostname() == hostname {
			return m.GetId()
		}
	}
	t.Fatalf("no etcd member for %s", hostname)
	return 0
}
