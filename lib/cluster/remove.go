package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/kubenode"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/terraform"
)

// NodeVMRemover is a node VMs Stage that knows the VMs it made and can
// destroy exactly some of them (lib/terraform's StackStep): the remove
// nodes step needs it to find the nodes that left the inventory and to
// delete their VMs. Without it the step finds them only in etcd's members.
type NodeVMRemover interface {
	// StateVMs are the VMs the stage made, as it last left them.
	StateVMs(ctx context.Context) ([]terraform.StateVM, error)
	// RemoveVMs destroys exactly the VMs at these addresses and changes
	// nothing else (with dryRun it only checks).
	RemoveVMs(ctx context.Context, addresses []string, dryRun bool) (changed bool, summary string, err error)
}

// ErrLastControlPlane means the removal would leave etcd without a member:
// the cluster's state would be lost.
var ErrLastControlPlane = errors.New("refusing to remove the last control plane")

// ErrQuorum means removing a control plane's etcd member would leave the
// remaining members without a quorum of them running.
var ErrQuorum = errors.New("refusing to remove an etcd member: the remaining members would lose quorum")

// leaving is a node of the cluster the inventory no longer lists.
type leaving struct {
	// node is what is known of it: its name, and from its VM its role,
	// address and VM ID.
	node inventory.TalosNode
	// vm is its VM in the node VMs stage's state, nil without.
	vm *terraform.StateVM
	// member is its etcd member, nil without.
	member *talosnode.EtcdMember
}

// leavers finds the nodes to remove: VMs of the node VMs stage and etcd
// members whose names the inventory does not list. members are etcd's
// members (nil when no control plane answered: then no control plane VM
// may be leaving) and via the control plane that listed them.
func (u *up) leavers(ctx context.Context) (out []leaving, members []talosnode.EtcdMember, via string, err error) {
	listed := map[string]bool{}
	for _, n := range u.inv.Talos.Nodes {
		listed[n.Name] = true
	}
	remover, _ := u.deps.NodeVMs.(NodeVMRemover)
	var vms []terraform.StateVM
	if remover != nil {
		if vms, err = remover.StateVMs(ctx); err != nil {
			return nil, nil, "", err
		}
	}
	for i, vm := range vms {
		if listed[vm.Name] {
			continue
		}
		role := inventory.RoleWorker
		if slices.Contains(vm.Tags, inventory.RoleControlPlane) {
			role = inventory.RoleControlPlane
		}
		out = append(out, leaving{node: inventory.TalosNode{Name: vm.Name, Role: role, VMID: vm.VMID, IP: vm.IP}, vm: &vms[i]})
	}
	if len(vms) == 0 {
		return out, nil, "", nil // no cluster yet: nothing to ask etcd
	}
	via, members, err = u.nodes.EtcdMembers(ctx, "")
	if err != nil {
		for _, l := range out {
			if l.node.Role == inventory.RoleControlPlane {
				return nil, nil, "", fmt.Errorf("%s left the inventory, a control plane whose etcd member must go first, and etcd's members are unknown: %w", l.node.Name, err)
			}
		}
		u.o.log.Debug("etcd's members are unknown", "err", err)
		return out, nil, "", nil
	}
	for i, m := range members {
		if m.Hostname == "" || listed[m.Hostname] {
			continue
		}
		j := slices.IndexFunc(out, func(l leaving) bool { return l.node.Name == m.Hostname })
		if j < 0 {
			out = append(out, leaving{node: inventory.TalosNode{Name: m.Hostname, Role: inventory.RoleControlPlane}})
			j = len(out) - 1
		}
		out[j].member = &members[i]
	}
	// Workers first, then control planes; each in the order found.
	slices.SortStableFunc(out, func(a, b leaving) int {
		return boolInt(a.node.Role == inventory.RoleControlPlane) - boolInt(b.node.Role == inventory.RoleControlPlane)
	})
	return out, members, via, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkQuorum refuses removals that would leave etcd without a member or
// without a quorum of running members: each remaining member counts as
// running when its control plane answers with etcd's members.
func (u *up) checkQuorum(ctx context.Context, out []leaving, members []talosnode.EtcdMember) error {
	var going, staying []string
	for _, m := range members {
		if slices.ContainsFunc(out, func(l leaving) bool { return l.member != nil && l.member.ID == m.ID }) {
			going = append(going, m.Hostname)
		} else if !m.Learner {
			staying = append(staying, m.Hostname)
		}
	}
	if len(going) == 0 {
		return nil
	}
	if len(staying) == 0 {
		return fmt.Errorf("%w: etcd's members are %s, and the inventory keeps none of them as a control plane: keep one in talos.nodes "+
			"(a new control plane joins only a running etcd)", ErrLastControlPlane, strings.Join(going, ", "))
	}
	running := 0
	var down []string
	for _, name := range staying {
		if _, _, err := u.nodes.EtcdMembers(ctx, name); err == nil {
			running++
		} else {
			down = append(down, name)
		}
	}
	if need := len(staying)/2 + 1; running < need {
		return fmt.Errorf("%w: removing %s leaves %d member(s), of which %d answer (%s do not), and etcd needs %d: bring them back first",
			ErrQuorum, strings.Join(going, ", "), len(staying), running, strings.Join(down, ", "), need)
	}
	return nil
}

// remove takes the nodes that left the inventory out of the cluster, each
// in order: drained in Kubernetes (when its API answers), its etcd member
// removed, its Node object deleted; then their VMs are destroyed.
func (u *up) remove(ctx context.Context) (bool, string, error) {
	out, members, via, err := u.leavers(ctx)
	if err != nil || len(out) == 0 {
		return false, "no node left the inventory, nothing to do", err
	}
	if err := u.checkQuorum(ctx, out, members); err != nil {
		return false, "", err
	}
	kube, why := u.kubeClient()
	changed := false
	var details []string
	for _, l := range out {
		detail, did, err := u.removeNode(ctx, kube, why, l, via)
		changed = changed || did
		details = append(details, detail)
		if err != nil {
			return changed, strings.Join(details, "; "), err
		}
	}
	var addrs []string
	for _, l := range out {
		if l.vm != nil {
			addrs = append(addrs, l.vm.Address)
		}
	}
	if len(addrs) > 0 {
		did, summary, err := u.deps.NodeVMs.(NodeVMRemover).RemoveVMs(ctx, addrs, false)
		changed = changed || did
		details = append(details, summary)
		if err != nil {
			return changed, strings.Join(details, "; "), err
		}
	}
	return changed, strings.Join(details, "; "), nil
}

// removeNode drains one node, removes its etcd member and deletes its
// Node object, each only when there is something to do.
func (u *up) removeNode(ctx context.Context, kube kubernetes.Interface, why string, l leaving, via string) (string, bool, error) {
	name := l.node.Name
	var did []string
	changed := false
	if kube != nil {
		res, err := kubenode.Drain(ctx, kube, name, kubenode.Options{Wait: u.o.drainWait, Interval: u.o.interval})
		if err != nil {
			return name + ": not drained", res.Changed(), err
		}
		switch {
		case res.Missing:
			did = append(did, "no Kubernetes node")
		case res.Changed():
			changed = true
			did = append(did, fmt.Sprintf("drained (%d pod(s) evicted)", len(res.Evicted)))
		default:
			did = append(did, "drained already")
		}
	} else {
		did = append(did, "not drained: "+why)
	}
	if l.member != nil {
		how, err := u.removeMember(ctx, l, via)
		if err != nil {
			return name + ": " + strings.Join(did, ", "), changed, err
		}
		changed = true
		did = append(did, how)
	}
	if kube != nil {
		deleted, err := kubenode.Delete(ctx, kube, name)
		if err != nil {
			return name + ": " + strings.Join(did, ", "), changed, err
		}
		if deleted {
			changed = true
			did = append(did, "Node deleted")
		}
	}
	return name + ": " + strings.Join(did, ", "), changed, nil
}

// removeMember removes a leaving control plane's etcd member: on the node
// itself (its leadership handed over first) when it answers, else by ID
// through a control plane of the inventory.
func (u *up) removeMember(ctx context.Context, l leaving, via string) (string, error) {
	if l.node.IP.IsValid() {
		_, err := u.nodes.ForfeitEtcdLeadership(ctx, l.node)
		if err == nil {
			if err := u.nodes.LeaveEtcd(ctx, l.node); err != nil {
				return "", err
			}
			return "left etcd (member " + l.member.String() + ")", nil
		}
		u.o.log.Debug("the leaving node does not answer; removing its member through another control plane", "node", l.node.Name, "err", err)
	}
	if err := u.nodes.RemoveEtcdMember(ctx, via, l.member.ID); err != nil {
		return "", err
	}
	return "etcd member " + l.member.String() + " removed through " + via, nil
}

// kubeClient is a client of the cluster's Kubernetes API through the
// kubeconfig the kubeconfig step wrote (talosnode's KubernetesConfig),
// when the API answers; else nil and why not.
func (u *up) kubeClient() (kubernetes.Interface, string) {
	cfg, err := u.nodes.KubernetesConfig()
	if err != nil {
		return nil, err.Error()
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err.Error()
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		return nil, "the Kubernetes API at " + cfg.Host + " does not answer: " + err.Error()
	}
	return cs, ""
}

// checkRemove is the dry run's check: which nodes would be removed, and
// how; it refuses what the real step refuses.
func (u *up) checkRemove(ctx context.Context) (bool, string, error) {
	out, members, _, err := u.leavers(ctx)
	if err != nil || len(out) == 0 {
		return false, "no node left the inventory, nothing to do", err
	}
	if err := u.checkQuorum(ctx, out, members); err != nil {
		return false, "", err
	}
	var parts []string
	for _, l := range out {
		steps := []string{"drain"}
		if l.member != nil {
			steps = append(steps, "remove etcd member "+l.member.String())
		}
		steps = append(steps, "delete its Node")
		if l.vm != nil {
			steps = append(steps, fmt.Sprintf("destroy VM %d", l.vm.VMID))
		}
		parts = append(parts, fmt.Sprintf("%s (%s): %s", l.node.Name, l.node.Role, strings.Join(steps, ", then ")))
	}
	return true, "would remove " + strings.Join(parts, "; "), nil
}
