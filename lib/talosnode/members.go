package talosnode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"

	"github.com/wdiazux/infra/lib/inventory"
)

// EtcdMember is one etcd member as a control plane lists it.
type EtcdMember struct {
	// ID is etcd's member ID.
	ID uint64
	// Hostname is the member's name: the control plane's hostname (the
	// inventory's node name).
	Hostname string
	// Learner says the member joined and is not promoted to a voting
	// member yet.
	Learner bool
}

// String is "hostname (id in hex)", as talosctl etcd members shows it.
func (m EtcdMember) String() string {
	s := fmt.Sprintf("%s (%016x)", m.Hostname, m.ID)
	if m.Learner {
		s += ", a learner"
	}
	return s
}

// ErrNoEtcd means no control plane of the inventory answered with etcd's
// members.
var ErrNoEtcd = errors.New("no control plane answered with etcd's members")

// EtcdMembers lists etcd's members through a control plane of the
// inventory: node, or the first that answers when node is "". It returns
// the control plane that answered.
func (c *Cluster) EtcdMembers(ctx context.Context, node string) (via string, members []EtcdMember, err error) {
	cps := c.inv.Talos.ControlPlanes()
	if node != "" {
		cp, err := c.controlPlane(node)
		if err != nil {
			return "", nil, err
		}
		cps = []inventory.TalosNode{cp}
	}
	var errs []error
	for _, cp := range cps {
		members, err := c.connectedMembers(ctx, cp)
		if err == nil {
			return cp.Name, members, nil
		}
		errs = append(errs, err)
	}
	return "", nil, fmt.Errorf("%w: %w", ErrNoEtcd, errors.Join(errs...))
}

// connectedMembers connects to a control plane and lists etcd's members.
func (c *Cluster) connectedMembers(ctx context.Context, n inventory.TalosNode) ([]EtcdMember, error) {
	cl, err := c.connect(ctx, n)
	if err != nil {
		return nil, err
	}
	defer cl.Close() //nolint:errcheck
	return c.listMembers(ctx, cl, n)
}

// listMembers lists etcd's members over an open client.
func (c *Cluster) listMembers(ctx context.Context, cl *client.Client, n inventory.TalosNode) ([]EtcdMember, error) {
	resp, err := cl.EtcdMemberList(ctx, &machineapi.EtcdMemberListRequest{})
	if err != nil {
		return nil, c.nodeErr(n, "list etcd members", err)
	}
	var out []EtcdMember
	for _, m := range resp.GetMessages() {
		for _, member := range m.GetMembers() {
			out = append(out, EtcdMember{ID: member.GetId(), Hostname: member.GetHostname(), Learner: member.GetIsLearner()})
		}
	}
	return out, nil
}

// LeaveEtcd makes the control plane n leave etcd, on the node itself
// (EtcdLeaveCluster): it removes its own member and stops its etcd. n
// need not be in the inventory: a node removed from it is reached at its
// address (and WithEndpointOverrides's, by name). etcd refuses when the
// other members would lose quorum.
func (c *Cluster) LeaveEtcd(ctx context.Context, n inventory.TalosNode) error {
	cl, err := c.connect(ctx, n)
	if err != nil {
		return err
	}
	defer cl.Close() //nolint:errcheck
	if err := cl.EtcdLeaveCluster(ctx, &machineapi.EtcdLeaveClusterRequest{}); err != nil {
		return c.nodeErr(n, "leave etcd", err)
	}
	return nil
}

// RemoveEtcdMember removes the member id through the control plane via
// (of the inventory): for a member whose node does not answer.
func (c *Cluster) RemoveEtcdMember(ctx context.Context, via string, id uint64) error {
	cp, err := c.controlPlane(via)
	if err != nil {
		return err
	}
	cl, err := c.connect(ctx, cp)
	if err != nil {
		return err
	}
	defer cl.Close() //nolint:errcheck
	if err := cl.EtcdRemoveMemberByID(ctx, &machineapi.EtcdRemoveMemberByIDRequest{MemberId: id}); err != nil {
		return c.nodeErr(cp, fmt.Sprintf("remove etcd member %016x", id), err)
	}
	return nil
}

// ForfeitEtcdLeadership moves etcd's leadership away from the control
// plane n when it leads; it returns the new leader's name, "" when n did
// not lead.
func (c *Cluster) ForfeitEtcdLeadership(ctx context.Context, n inventory.TalosNode) (string, error) {
	cl, err := c.connect(ctx, n)
	if err != nil {
		return "", err
	}
	defer cl.Close() //nolint:errcheck
	resp, err := cl.EtcdForfeitLeadership(ctx, &machineapi.EtcdForfeitLeadershipRequest{})
	if err != nil {
		return "", c.nodeErr(n, "forfeit etcd leadership", err)
	}
	for _, m := range resp.GetMessages() {
		return m.GetMember(), nil
	}
	return "", nil
}

// membershipProblems compares etcd's members with the inventory's control
// planes: each control plane a voting member, and no other member.
func membershipProblems(members []EtcdMember, cps []inventory.TalosNode) []string {
	var problems []string
	for _, cp := range cps {
		i := slices.IndexFunc(members, func(m EtcdMember) bool { return m.Hostname == cp.Name })
		switch {
		case i < 0:
			problems = append(problems, fmt.Sprintf("etcd has no member %s (the control planes each join as one)", cp.Name))
		case members[i].Learner:
			problems = append(problems, fmt.Sprintf("etcd member %s is a learner, not promoted yet", members[i]))
		}
	}
	var extra []string
	for _, m := range members {
		if !slices.ContainsFunc(cps, func(cp inventory.TalosNode) bool { return cp.Name == m.Hostname }) {
			extra = append(extra, m.String())
		}
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("etcd has member(s) that are not control planes of the inventory: %s; remove each (etcd remove-member ID) once its node is gone",
			strings.Join(extra, ", ")))
	}
	return problems
}

// voting counts the voting members.
func voting(members []EtcdMember) int {
	n := 0
	for _, m := range members {
		if !m.Learner {
			n++
		}
	}
	return n
}
