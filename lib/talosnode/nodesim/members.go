package nodesim

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The etcd membership of the simulated cluster, as Talos v1.12 and etcd
// keep it (internal/app/machined/pkg/system/services/etcd.go,
// internal/pkg/etcd, etcd's server/etcdserver):
//
//   - Bootstrap makes the bootstrapped control plane the first voting
//     member (and the leader).
//   - A control plane configured once etcd runs (before or after the
//     bootstrap) joins: it removes any member of its own hostname, adds
//     itself as a learner (MemberAddAsLearner), then is promoted to a
//     voting member once it caught up (WithLearnerPromotion).
//   - Members have random 64-bit IDs, stable until removed.
//   - A member whose node is down or gone (its VM destroyed) stays
//     listed, not started, until it is removed: membership can drift from
//     the inventory.
//   - Removing a voting member is refused as etcd's strict reconfiguration
//     check refuses it: when the other voting members that are started
//     would not be a quorum of the remaining ones ("not enough started
//     members", which also refuses removing the last member), or when the
//     member is started and the active members less one would not be a
//     quorum ("unhealthy cluster"). A learner is always removable.
//   - Every call needs a leader: a quorum of voting members started.

// member is one etcd member.
type member struct {
	id       uint64
	hostname string
	learner  bool
	// joined is when it was added, for the promotion delay.
	joined time.Time
}

// WithLearnerPromotion sets how long a joining control plane stays a
// learner before it is promoted to a voting member (default 0: at the
// first look after it joined). Talos promotes once the learner caught up
// with the leader, retrying every 15 s.
func WithLearnerPromotion(d time.Duration) Option { return func(s *Sim) { s.promoteAfter = d } }

// newMemberID is a random non-zero member ID, as etcd makes them.
func newMemberID() uint64 {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:])
		if id := binary.BigEndian.Uint64(b[:]); id != 0 {
			return id
		}
	}
}

// bootstrapMember makes n the first member and the leader; s.mu is held.
func (s *Sim) bootstrapMember(n *Node) {
	m := &member{id: newMemberID(), hostname: n.hostname, joined: time.Now()}
	s.etcdMembers = []*member{m}
	s.leader = m.id
	n.memberID = m.id
}

// started says the member runs: its node is up and holds its data.
func (s *Sim) started(m *member) bool {
	for _, n := range s.nodes {
		if n.memberID == m.id && n.config != nil && !n.notRunning && !n.rebooting && !n.etcdLeft {
			return true
		}
	}
	return false
}

// member finds a member by ID.
func (s *Sim) member(id uint64) *member {
	for _, m := range s.etcdMembers {
		if m.id == id {
			return m
		}
	}
	return nil
}

// quorum is a majority of n.
func quorum(n int) int { return n/2 + 1 }

// voting are the voting members, and how many of them are started.
func (s *Sim) voting() (members []*member, up int) {
	for _, m := range s.etcdMembers {
		if !m.learner {
			members = append(members, m)
			if s.started(m) {
				up++
			}
		}
	}
	return members, up
}

// reconcile brings the membership to where etcd and Talos would have
// brought it by now: a leader while a quorum runs, control planes joined,
// learners promoted. s.mu is held.
func (s *Sim) reconcile() {
	if !s.bootstrapped {
		s.etcdMembers, s.leader = nil, 0
		return
	}
	s.elect()
	if s.leader == 0 {
		return
	}
	for _, name := range s.order {
		n := s.nodes[name]
		if n.role != "controlplane" || n.config == nil || n.notRunning || n.memberID != 0 || n.etcdLeft {
			continue
		}
		// addMember: a member of the same hostname is removed first.
		s.etcdMembers = slices.DeleteFunc(s.etcdMembers, func(m *member) bool { return m.hostname == n.hostname })
		m := &member{id: newMemberID(), hostname: n.hostname, learner: true, joined: time.Now()}
		s.etcdMembers = append(s.etcdMembers, m)
		n.memberID = m.id
	}
	for _, m := range s.etcdMembers {
		if m.learner && s.started(m) && time.Since(m.joined) >= s.promoteAfter {
			m.learner = false
		}
	}
	s.elect()
}

// elect keeps the leader while it runs, else makes the first started
// voting member the leader when a quorum runs (0 without).
func (s *Sim) elect() {
	voting, up := s.voting()
	if up < quorum(len(voting)) {
		s.leader = 0
		return
	}
	if m := s.member(s.leader); m != nil && !m.learner && s.started(m) {
		return
	}
	for _, m := range voting {
		if s.started(m) {
			s.leader = m.id
			return
		}
	}
}

// errNoLeader is etcd's answer to a request that requires a leader while
// none is elected.
var errNoLeader = status.Error(codes.Unavailable, "etcdserver: no leader")

// etcdCall checks what every etcd call of Talos checks: the node is a
// control plane, etcd was bootstrapped and has a leader. It reconciles the
// membership first; s.mu is held.
func (m *machineServer) etcdCall(api string) error {
	s := m.node.sim
	if m.node.role != "controlplane" {
		return status.Errorf(codes.Unimplemented, "%s is only available on control plane nodes", api)
	}
	if s.etcdDown(m.node.name) {
		return status.Error(codes.Unavailable, "etcd is not running: the cluster is not bootstrapped")
	}
	s.reconcile()
	if s.leader == 0 {
		return errNoLeader
	}
	return nil
}

// removeMember is etcd's MemberRemove with its strict reconfiguration
// check; s.mu is held.
func (s *Sim) removeMember(id uint64) error {
	m := s.member(id)
	if m == nil {
		return status.Error(codes.NotFound, "etcdserver: member not found")
	}
	if !m.learner {
		voting, up := s.voting()
		others, othersUp := len(voting)-1, up
		if s.started(m) {
			othersUp--
		}
		if othersUp < quorum(others) {
			return status.Errorf(codes.Unknown, "failed to remove member %d: etcdserver: re-configuration failed due to not enough started members", id)
		}
		if s.started(m) && up-1 < 1+(len(voting)-1)/2 {
			return status.Errorf(codes.Unknown, "failed to remove member %d: etcdserver: unhealthy cluster", id)
		}
	}
	s.etcdMembers = slices.DeleteFunc(s.etcdMembers, func(x *member) bool { return x.id == id })
	s.elect()
	return nil
}

// Members lists the etcd members as the cluster knows them (empty before
// the bootstrap), for tests.
func (s *Sim) Members() []*machineapi.EtcdMember {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reconcile()
	return s.members()
}

// members lists the etcd members; s.mu is held.
func (s *Sim) members() []*machineapi.EtcdMember {
	out := make([]*machineapi.EtcdMember, 0, len(s.etcdMembers))
	for _, m := range s.etcdMembers {
		out = append(out, &machineapi.EtcdMember{Id: m.id, Hostname: m.hostname, IsLearner: m.learner,
			PeerUrls: []string{"https://" + m.hostname + ":2380"}, ClientUrls: []string{"https://" + m.hostname + ":2379"}})
	}
	return out
}

// Leader is the etcd leader's hostname ("" without a leader), for tests.
func (s *Sim) Leader() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reconcile()
	if m := s.member(s.leader); m != nil {
		return m.hostname
	}
	return ""
}

func (m *machineServer) EtcdMemberList(ctx context.Context, _ *machineapi.EtcdMemberListRequest) (*machineapi.EtcdMemberListResponse, error) {
	if err := m.configuredOnly(ctx, "EtcdMemberList"); err != nil {
		return nil, err
	}
	s := m.node.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := m.etcdCall("member list"); err != nil {
		return nil, err
	}
	return &machineapi.EtcdMemberListResponse{Messages: []*machineapi.EtcdMembers{{Members: s.members()}}}, nil
}

func (m *machineServer) EtcdRemoveMemberByID(ctx context.Context, req *machineapi.EtcdRemoveMemberByIDRequest) (*machineapi.EtcdRemoveMemberByIDResponse, error) {
	if _, err := m.node.record(ctx, Request{Method: "EtcdRemoveMemberByID", MemberID: req.MemberId}); err != nil {
		return nil, err
	}
	if !m.node.configured() {
		return nil, errMaintenance
	}
	s := m.node.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := m.etcdCall("etcd remove member"); err != nil {
		return nil, err
	}
	if err := s.removeMember(req.MemberId); err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, err
		}
		return nil, status.Errorf(status.Code(err), "failed to remove member: %s", status.Convert(err).Message())
	}
	return &machineapi.EtcdRemoveMemberByIDResponse{Messages: []*machineapi.EtcdRemoveMemberByID{{}}}, nil
}

func (m *machineServer) EtcdLeaveCluster(ctx context.Context, _ *machineapi.EtcdLeaveClusterRequest) (*machineapi.EtcdLeaveClusterResponse, error) {
	if err := m.configuredOnly(ctx, "EtcdLeaveCluster"); err != nil {
		return nil, err
	}
	s := m.node.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := m.etcdCall("etcd leave"); err != nil {
		return nil, err
	}
	n := m.node
	if n.memberID == 0 || n.etcdLeft {
		return nil, status.Error(codes.FailedPrecondition, "failed to leave cluster: etcd member ID not found: etcd does not run on this node")
	}
	// Talos retries "unhealthy cluster" for five minutes; here it answers
	// at once. A member already removed is not an error.
	if err := s.removeMember(n.memberID); err != nil && status.Code(err) != codes.NotFound {
		return nil, status.Errorf(status.Code(err), "failed to leave cluster: %s", status.Convert(err).Message())
	}
	// etcd is stopped and its data directory removed.
	n.memberID, n.etcdLeft = 0, true
	return &machineapi.EtcdLeaveClusterResponse{Messages: []*machineapi.EtcdLeaveCluster{{}}}, nil
}

func (m *machineServer) EtcdForfeitLeadership(ctx context.Context, _ *machineapi.EtcdForfeitLeadershipRequest) (*machineapi.EtcdForfeitLeadershipResponse, error) {
	if err := m.configuredOnly(ctx, "EtcdForfeitLeadership"); err != nil {
		return nil, err
	}
	s := m.node.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := m.etcdCall("etcd forfeit leadership"); err != nil {
		return nil, err
	}
	self := s.member(m.node.memberID)
	if self == nil || m.node.etcdLeft {
		return nil, status.Error(codes.FailedPrecondition, "etcd member ID not found: etcd does not run on this node")
	}
	if len(s.etcdMembers) == 1 {
		return nil, status.Error(codes.Unknown, "failed to forfeit leadership: cannot forfeit leadership, only one member")
	}
	reply := func(to string) *machineapi.EtcdForfeitLeadershipResponse {
		return &machineapi.EtcdForfeitLeadershipResponse{Messages: []*machineapi.EtcdForfeitLeadership{{Member: to}}}
	}
	if s.leader != self.id {
		return reply(""), nil
	}
	for _, o := range s.etcdMembers {
		if o.id != self.id && !o.learner && s.started(o) {
			s.leader = o.id
			return reply(o.hostname), nil
		}
	}
	return nil, status.Error(codes.Unknown, "failed to forfeit leadership: etcdserver: bad leader transferee")
}

// etcdService is the etcd service's state on a control plane, when the
// membership decides it (ok false: running and healthy). s.mu is held.
func (n *Node) etcdService() (state string, health *machineapi.ServiceHealth, ok bool) {
	s := n.sim
	if !s.bootstrapped {
		return "Preparing", &machineapi.ServiceHealth{Unknown: true, LastMessage: "waiting for etcd bootstrap"}, true
	}
	s.reconcile()
	switch m := s.member(n.memberID); {
	case n.etcdLeft:
		return "Finished", &machineapi.ServiceHealth{Unknown: true, LastMessage: "left the etcd cluster"}, true
	case n.memberID == 0:
		return "Preparing", &machineapi.ServiceHealth{Unknown: true, LastMessage: "waiting to join the etcd cluster: no leader"}, true
	case m == nil:
		return "Failed", &machineapi.ServiceHealth{LastMessage: fmt.Sprintf("the member %x was removed from the cluster", n.memberID)}, true
	case m.learner:
		return "Running", &machineapi.ServiceHealth{LastMessage: "a learner, waiting to be promoted"}, true
	case s.leader == 0:
		return "Running", &machineapi.ServiceHealth{LastMessage: "etcdserver: no leader"}, true
	}
	return "", nil, false
}
