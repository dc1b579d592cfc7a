package nodesim

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"time"

	"github.com/cosi-project/runtime/api/v1alpha1"
	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/cosi-project/runtime/pkg/state"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/extensions"
	"github.com/siderolabs/talos/pkg/machinery/resources/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultRebootTime is how long an upgrading node is down unless
// WithRebootTime says otherwise: short, for tests.
const DefaultRebootTime = 50 * time.Millisecond

// SchematicExtension is the name under which Talos reports the Image
// Factory schematic it was built from: the ExtensionStatus resource (COSI,
// namespace runtime) whose metadata name is "schematic" holds the
// schematic ID as its version (machinery's
// constants.ImageFactorySchematicExtensionName in newer releases).
const SchematicExtension = "schematic"

// WithSchematic sets the Image Factory schematic every node boots with at
// start (default: none, a node of the official image). It changes later
// only by an upgrade.
func WithSchematic(id string) Option { return func(s *Sim) { s.schematic = id } }

// WithRebootTime sets how long a node is down while it reboots into an
// upgrade (default DefaultRebootTime).
func WithRebootTime(d time.Duration) Option { return func(s *Sim) { s.rebootTime = d } }

// UpgradeFault is what a node's next upgrade does wrong (SetUpgradeFault).
type UpgradeFault int

// The faults an upgrade can be given.
const (
	// UpgradeOK: the node reboots into the new image.
	UpgradeOK UpgradeFault = iota
	// UpgradeStaysDown: the node never comes back (PowerCycle brings it
	// back on its old image).
	UpgradeStaysDown
	// UpgradeKeepsOldVersion: the node comes back on its old version and
	// schematic, as Talos does when the new image fails to boot and it
	// falls back to the previous boot entry.
	UpgradeKeepsOldVersion
	// UpgradeUnhealthy: the node comes back on the new image with its
	// kubelet unhealthy.
	UpgradeUnhealthy
)

// UnhealthyAfterUpgrade is the service UpgradeUnhealthy leaves unhealthy.
const UnhealthyAfterUpgrade = "kubelet"

// SetUpgradeFault makes the node's next upgrade go wrong as f says; the
// fault is used once.
func (s *Sim) SetUpgradeFault(name string, f UpgradeFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[name].fault = f
}

// Running returns the Talos version and schematic the node runs.
func (s *Sim) Running(name string) (version, schematic string) {
	s.mu.Lock()
	n := s.nodes[name]
	s.mu.Unlock()
	r := n.running()
	return r.version, r.schematic
}

// Rebooting says the node rebooted into an upgrade and is not back.
func (s *Sim) Rebooting(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[name].rebooting
}

// PowerCycle boots a node that did not come back from an upgrade
// (UpgradeStaysDown) on the image it ran before, as a person who resets
// the VM finds it: Talos falls back to the previous boot entry.
func (s *Sim) PowerCycle(name string) error {
	s.mu.Lock()
	n := s.nodes[name]
	s.mu.Unlock()
	r := n.running()
	return n.boot(r.version, r.schematic, UpgradeOK)
}

// image is what a node runs.
type image struct{ version, schematic string }

func (n *Node) running() image {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return image{n.version, n.schematic}
}

// installerRef is an Image Factory installer image as lib/talosgen writes
// it into the machine config: <registry>/installer/<schematic>:<version>.
var installerRef = regexp.MustCompile(`^[a-z0-9.-]+(?::[0-9]+)?(?:/[a-z0-9._-]+)*/installer/([0-9a-f]{64}):(v[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?)$`)

func (m *machineServer) Upgrade(ctx context.Context, req *machineapi.UpgradeRequest) (*machineapi.UpgradeResponse, error) {
	n := m.node
	if _, err := n.record(ctx, Request{Method: "Upgrade", Image: req.GetImage(), Force: req.GetForce()}); err != nil {
		return nil, err
	}
	if !n.configured() {
		return nil, errMaintenance
	}
	// Talos pulls the installer and runs its --help before anything else
	// (internal/pkg/install/pull.go PullAndValidateInstallerImage).
	match := installerRef.FindStringSubmatch(req.GetImage())
	if match == nil {
		return nil, status.Errorf(codes.Unknown, "error validating installer image %q: failed to resolve reference %q: not found", req.GetImage(), req.GetImage())
	}
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	// A control plane checks etcd unless forced (v1alpha1_server.go
	// Upgrade, internal/pkg/etcd ValidateForUpgrade).
	if n.role == "controlplane" && !req.GetForce() {
		if err := s.validateEtcdForUpgrade(); err != nil {
			return nil, err
		}
	}
	next := image{version: match[2], schematic: match[1]}
	fault := n.fault
	n.fault = UpgradeOK
	n.rebooting = true
	if fault != UpgradeStaysDown {
		if fault == UpgradeKeepsOldVersion {
			next = image{n.version, n.schematic}
		}
		time.AfterFunc(s.rebootTime, func() { _ = n.boot(next.version, next.schematic, fault) })
	}
	return &machineapi.UpgradeResponse{Messages: []*machineapi.Upgrade{{Ack: "Upgrade request received", ActorId: actorID()}}}, nil
}

// validateEtcdForUpgrade is Talos's ValidateForUpgrade on the members
// (s.mu held): two members would lose quorum, and every member must be
// started and healthy.
func (s *Sim) validateEtcdForUpgrade() error {
	if !s.bootstrapped {
		return status.Error(codes.Unknown, "failed to create etcd client: etcd is not running: the cluster is not bootstrapped")
	}
	s.reconcile()
	if len(s.etcdMembers) == 2 {
		return status.Errorf(codes.Unknown, "error validating etcd for upgrade: etcd member count(%d) is insufficient to maintain quorum if upgrade commences", len(s.etcdMembers))
	}
	for _, m := range s.etcdMembers {
		why := ""
		n := s.nodeOfMember(m.id)
		switch {
		case n == nil || !s.started(m):
			why = "context deadline exceeded"
		case n.unhealthy["etcd"] != "":
			why = n.unhealthy["etcd"]
		}
		if why != "" {
			return status.Errorf(codes.Unknown, "error validating etcd for upgrade: etcd member %016x is not healthy; all members must be healthy to perform an upgrade: %s", m.id, why)
		}
	}
	return nil
}

// boot brings the node up on an image, with what a fault leaves wrong.
func (n *Node) boot(version, schematic string, fault UpgradeFault) error {
	n.sim.mu.Lock()
	n.rebooting, n.version, n.schematic, n.started = false, version, schematic, time.Now()
	if fault == UpgradeUnhealthy {
		n.unhealthy[UnhealthyAfterUpgrade] = "simulated: the kubelet did not become healthy after the upgrade"
	}
	n.sim.mu.Unlock()
	return n.writeExtensions(context.Background())
}

// writeExtensions puts the node's ExtensionStatus resources in its COSI
// state as Talos does at boot: here only the schematic's, when it has one.
func (n *Node) writeExtensions(ctx context.Context) error {
	r := n.running()
	res := runtime.NewExtensionStatus(runtime.NamespaceName, "0")
	if r.schematic == "" {
		err := n.st.Destroy(ctx, res.Metadata())
		if state.IsNotFoundError(err) {
			return nil
		}
		return err
	}
	return safe.StateModify(ctx, n.st, res, func(e *runtime.ExtensionStatus) error {
		*e.TypedSpec() = extensions.Layer{Image: "0.sqsh", Metadata: extensions.Metadata{
			Name: SchematicExtension, Version: r.schematic, Author: "Image Factory",
			Description: "This extension is a placeholder for the schematic ID of the image",
		}}
		return nil
	})
}

// stateGate is the node's COSI state API, refused while the node is down
// as its MachineService is.
type stateGate struct {
	v1alpha1.StateServer
	node *Node
}

func (g *stateGate) down() error {
	g.node.sim.mu.Lock()
	defer g.node.sim.mu.Unlock()
	if g.node.notRunning || g.node.rebooting {
		return status.Error(codes.Unavailable, "connection refused")
	}
	return nil
}

// Get refuses while the node is down.
func (g *stateGate) Get(ctx context.Context, req *v1alpha1.GetRequest) (*v1alpha1.GetResponse, error) {
	if err := g.down(); err != nil {
		return nil, err
	}
	return g.StateServer.Get(ctx, req)
}

// List refuses while the node is down.
func (g *stateGate) List(req *v1alpha1.ListRequest, srv grpc.ServerStreamingServer[v1alpha1.ListResponse]) error {
	if err := g.down(); err != nil {
		return err
	}
	return g.StateServer.List(req, srv)
}

// actorID is a random ID as Talos gives each request's actor.
func actorID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// nodeOfMember is the node whose etcd data belongs to the member, nil when
// none (its VM gone, or wiped). s.mu held.
func (s *Sim) nodeOfMember(id uint64) *Node {
	for _, n := range s.nodes {
		if n.memberID == id {
			return n
		}
	}
	return nil
}
