package talosnode

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/lib/inventory"
)

// ErrNotControlPlane means a node that must be a control plane is not one.
var ErrNotControlPlane = errors.New("not a control-plane node")

// recoverChunk is the size of the messages EtcdRecover sends, as talosctl.
const recoverChunk = 4096

// connectControlPlane opens an authenticated client to a control plane
// (the first for "").
func (c *Cluster) connectControlPlane(ctx context.Context, node string) (inventory.TalosNode, *client.Client, error) {
	n, err := c.controlPlane(node)
	if err != nil {
		return n, nil, err
	}
	cl, err := c.connect(ctx, n)
	return n, cl, err
}

// EtcdSnapshot streams a snapshot of etcd from a control plane (the first
// for "") into w, as `talosctl etcd snapshot` takes it: etcd's bbolt
// database followed by its sha256, which etcd appends. Nothing is held in
// memory beyond one message. It returns the bytes written.
func (c *Cluster) EtcdSnapshot(ctx context.Context, node string, w io.Writer) (int64, error) {
	n, cl, err := c.connectControlPlane(ctx, node)
	if err != nil {
		return 0, err
	}
	defer cl.Close() //nolint:errcheck
	stream, err := cl.MachineClient.EtcdSnapshot(ctx, &machineapi.EtcdSnapshotRequest{})
	if err != nil {
		return 0, c.nodeErr(n, "etcd snapshot", err)
	}
	var total int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, c.nodeErr(n, fmt.Sprintf("etcd snapshot (after %d bytes)", total), err)
		}
		k, err := w.Write(msg.GetBytes())
		total += int64(k)
		if err != nil {
			return total, fmt.Errorf("%s: etcd snapshot: write after %d bytes: %w", n.Name, total, err)
		}
	}
}

// EtcdRecover uploads a snapshot read from r to a control plane for
// recovery (`talosctl bootstrap --recover-from`'s first step); the node
// keeps it until BootstrapRecover restores it. Talos accepts the upload
// from any control plane: that its etcd does not run is Bootstrap's check.
// It returns the bytes sent.
func (c *Cluster) EtcdRecover(ctx context.Context, node string, r io.Reader) (int64, error) {
	n, cl, err := c.connectControlPlane(ctx, node)
	if err != nil {
		return 0, err
	}
	defer cl.Close() //nolint:errcheck
	stream, err := cl.MachineClient.EtcdRecover(ctx)
	if err != nil {
		return 0, c.nodeErr(n, "etcd recover", err)
	}
	var total int64
	buf := make([]byte, recoverChunk)
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			if err := stream.Send(&common.Data{Bytes: buf[:k]}); err != nil {
				if !errors.Is(err, io.EOF) {
					return total, c.nodeErr(n, fmt.Sprintf("etcd recover (after %d bytes)", total), err)
				}
				// The node ended the stream: CloseAndRecv says why.
				break
			}
			total += int64(k)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			_ = stream.CloseSend()
			return total, fmt.Errorf("%s: etcd recover: read the snapshot after %d bytes: %w", n.Name, total, rerr)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		return total, c.nodeErr(n, fmt.Sprintf("etcd recover (after %d bytes)", total), err)
	}
	return total, nil
}

// BootstrapRecover bootstraps etcd on a control plane from the snapshot
// EtcdRecover uploaded, as `talosctl bootstrap --recover-from` does (with
// skipHashCheck, --recover-skip-hash-check: for a database copied from a
// data directory, which has no appended hash). The node answers before
// etcd has restored it; Health says when it runs. A node whose etcd data
// directory is not empty answers with ErrAlreadyBootstrapped.
func (c *Cluster) BootstrapRecover(ctx context.Context, node string, skipHashCheck bool) error {
	n, cl, err := c.connectControlPlane(ctx, node)
	if err != nil {
		return err
	}
	defer cl.Close() //nolint:errcheck
	err = cl.Bootstrap(ctx, &machineapi.BootstrapRequest{RecoverEtcd: true, RecoverSkipHashCheck: skipHashCheck})
	if status.Code(err) == codes.AlreadyExists {
		return fmt.Errorf("%w: %s says its etcd data directory is not empty; nothing was done", ErrAlreadyBootstrapped, n.Name)
	}
	if err != nil {
		return c.nodeErr(n, "bootstrap etcd from the snapshot", err)
	}
	return nil
}

// EtcdState is what a control plane says of its etcd.
type EtcdState struct {
	// Node is the control plane.
	Node string
	// Service is the etcd service's state ("Running", "Preparing",
	// "Failed", ...) and Message its last health message.
	Service, Message string
	// Healthy says the service's health check passes.
	Healthy bool
	// TalosVersion is the Talos version the node runs.
	TalosVersion string
	// Members are the member names the node's etcd lists, nil when it
	// lists none (MembersErr says why).
	Members []string
	// MembersErr is the node's answer to the member list, when it failed.
	MembersErr error
}

// Running says etcd runs on the node: its service runs, or it lists
// members.
func (s EtcdState) Running() bool { return s.Service == "Running" || len(s.Members) > 0 }

// EtcdState asks a control plane for its etcd service and members. An
// error means the node did not answer (or is not a control plane); a
// member list it refuses is in MembersErr.
func (c *Cluster) EtcdState(ctx context.Context, node string) (EtcdState, error) {
	n, cl, err := c.connectControlPlane(ctx, node)
	if err != nil {
		return EtcdState{Node: n.Name}, err
	}
	defer cl.Close() //nolint:errcheck
	return c.etcdState(ctx, cl, n)
}

// etcdState reads a control plane's etcd service and members over an open
// client.
func (c *Cluster) etcdState(ctx context.Context, cl *client.Client, n inventory.TalosNode) (EtcdState, error) {
	st := EtcdState{Node: n.Name}
	v, err := cl.Version(ctx)
	if err != nil {
		return st, c.nodeErr(n, "version", err)
	}
	for _, m := range v.GetMessages() {
		st.TalosVersion = m.GetVersion().GetTag()
	}
	svcs, err := cl.ServiceList(ctx)
	if err != nil {
		return st, c.nodeErr(n, "list services", err)
	}
	for _, m := range svcs.GetMessages() {
		for _, svc := range m.GetServices() {
			if svc.GetId() == "etcd" {
				st.Service, st.Message, st.Healthy = svc.GetState(), svc.GetHealth().GetLastMessage(), svc.GetHealth().GetHealthy()
			}
		}
	}
	st.Members, st.MembersErr = c.etcdMembers(ctx, cl, n)
	return st, nil
}
