package talosnode_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// node is the inventory's node of that name.
func (e *env) node(t testing.TB, name string) inventory.TalosNode {
	t.Helper()
	for _, n := range e.inv.Talos.Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no node %s", name)
	return inventory.TalosNode{}
}

// ids maps each member's hostname to its ID.
func ids(members []talosnode.EtcdMember) map[string]uint64 {
	out := map[string]uint64{}
	for _, m := range members {
		out[m.Hostname] = m.ID
	}
	return out
}

// TestEtcdJoinAsLearner: a control plane configured once etcd runs joins
// as a learner and is promoted later; the health check waits for it.
func TestEtcdJoinAsLearner(t *testing.T) {
	e := newEnv(t, threeNodesFile, nodesim.WithLearnerPromotion(time.Hour))
	ctx := t.Context()
	_, err := e.cluster.Apply(ctx, talosnode.ApplyOptions{Node: "talos-cp-01"})
	require.NoError(t, err)
	_, err = e.cluster.Bootstrap(ctx, "", false)
	require.NoError(t, err)
	via, members, err := e.cluster.EtcdMembers(ctx, "")
	require.NoError(t, err)
	require.Equal(t, "talos-cp-01", via)
	require.Len(t, members, 1)
	require.NotZero(t, members[0].ID)
	require.False(t, members[0].Learner)

	_, err = e.cluster.Apply(ctx, talosnode.ApplyOptions{Node: "talos-cp-02"})
	require.NoError(t, err)
	_, members, err = e.cluster.EtcdMembers(ctx, "talos-cp-02")
	require.NoError(t, err)
	require.Len(t, members, 2)
	require.Equal(t, "talos-cp-02", members[1].Hostname)
	require.True(t, members[1].Learner, "a joining control plane is added as a learner")
	_, err = e.cluster.Health(ctx, talosnode.HealthOptions{})
	require.ErrorContains(t, err, "etcd member talos-cp-02 (")
	require.ErrorContains(t, err, "is a learner, not promoted yet")
}

// TestEtcdMembership: members keep their random IDs; a member whose node
// is down stays listed; leaving and removal are refused when the others
// would lose quorum, as etcd refuses; the last member cannot be removed;
// a node wiped and configured again joins as a new member, replacing its
// old one.
func TestEtcdMembership(t *testing.T) {
	e := newEnv(t, threeNodesFile)
	ctx := t.Context()
	e.ready(t)
	_, first, err := e.cluster.EtcdMembers(ctx, "")
	require.NoError(t, err)
	require.Len(t, first, 3)
	_, again, err := e.cluster.EtcdMembers(ctx, "talos-cp-03")
	require.NoError(t, err)
	require.Equal(t, first, again, "IDs are stable")
	require.Len(t, ids(first), 3)
	rep, err := e.cluster.Health(ctx, talosnode.HealthOptions{})
	require.NoError(t, err)
	require.Equal(t, 3, rep.Nodes[0].EtcdMembers)

	_, _, err = e.cluster.EtcdMembers(ctx, "talos-gpu-01")
	require.ErrorContains(t, err, "talos-gpu-01 is a worker")

	leader := e.sim.Leader()
	require.Equal(t, "talos-cp-01", leader)
	to, err := e.cluster.ForfeitEtcdLeadership(ctx, e.node(t, "talos-cp-02"))
	require.NoError(t, err)
	require.Empty(t, to, "a follower has no leadership to forfeit")
	to, err = e.cluster.ForfeitEtcdLeadership(ctx, e.node(t, "talos-cp-01"))
	require.NoError(t, err)
	require.Equal(t, "talos-cp-02", to)
	require.Equal(t, "talos-cp-02", e.sim.Leader())

	// cp-03 goes down: its member stays listed, not started.
	e.sim.SetDown("talos-cp-03", true)
	_, members, err := e.cluster.EtcdMembers(ctx, "talos-cp-01")
	require.NoError(t, err)
	require.Equal(t, ids(first), ids(members))
	err = e.cluster.LeaveEtcd(ctx, e.node(t, "talos-cp-02"))
	require.ErrorContains(t, err, "not enough started members", "two of three up: cp-02 leaving leaves cp-01 alone of two")
	require.Len(t, e.sim.Members(), 3)

	// Wiped and configured again (its VM recreated): a new member replaces
	// the old one of the same hostname.
	e.sim.Reset("talos-cp-03")
	e.sim.SetDown("talos-cp-03", false)
	_, err = e.cluster.Apply(ctx, talosnode.ApplyOptions{Node: "talos-cp-03"})
	require.NoError(t, err)
	_, members, err = e.cluster.EtcdMembers(ctx, "talos-cp-01")
	require.NoError(t, err)
	require.Len(t, members, 3)
	require.NotEqual(t, ids(first)["talos-cp-03"], ids(members)["talos-cp-03"])
	require.Equal(t, ids(first)["talos-cp-01"], ids(members)["talos-cp-01"])

	// Down again, then removed by ID through another control plane.
	e.sim.SetDown("talos-cp-03", true)
	require.NoError(t, e.cluster.RemoveEtcdMember(ctx, "talos-cp-01", ids(members)["talos-cp-03"]))
	err = e.cluster.RemoveEtcdMember(ctx, "talos-cp-01", ids(members)["talos-cp-03"])
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)

	// Two members, both up: one may leave, then the last may not.
	require.NoError(t, e.cluster.LeaveEtcd(ctx, e.node(t, "talos-cp-02")))
	_, members, err = e.cluster.EtcdMembers(ctx, "talos-cp-02")
	require.NoError(t, err, "a control plane that left still answers through the others")
	require.Equal(t, []string{"talos-cp-01"}, hostnames(members))
	err = e.cluster.LeaveEtcd(ctx, e.node(t, "talos-cp-02"))
	require.ErrorContains(t, err, "etcd does not run on this node")
	err = e.cluster.RemoveEtcdMember(ctx, "talos-cp-02", ids(members)["talos-cp-01"])
	require.ErrorContains(t, err, "not enough started members")
	err = e.cluster.LeaveEtcd(ctx, e.node(t, "talos-cp-01"))
	require.ErrorContains(t, err, "not enough started members")
	_, err = e.cluster.ForfeitEtcdLeadership(ctx, e.node(t, "talos-cp-01"))
	require.ErrorContains(t, err, "cannot forfeit leadership, only one member")

	_, err = e.cluster.Health(ctx, talosnode.HealthOptions{})
	require.ErrorContains(t, err, "talos-cp-02: service etcd is Finished: left the etcd cluster")
	require.ErrorContains(t, err, "etcd has no member talos-cp-02")
}

func hostnames(members []talosnode.EtcdMember) []string {
	var out []string
	for _, m := range members {
		out = append(out, m.Hostname)
	}
	return out
}
