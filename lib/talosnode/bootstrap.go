package talosnode

import (
	"context"
	"errors"
	"fmt"
	"strings"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/lib/inventory"
)

// ErrAlreadyBootstrapped means etcd already runs: bootstrapping again would
// start a second, empty cluster.
var ErrAlreadyBootstrapped = errors.New("etcd is already bootstrapped")

// BootstrapResult says what Bootstrap did.
type BootstrapResult struct {
	// Node is the control plane etcd was (or would be) bootstrapped on.
	Node string
	// DryRun says nothing was done.
	DryRun bool
}

// Bootstrap starts etcd on one control plane (the first, or node), once.
// It first asks every control plane for etcd's members and refuses with
// ErrAlreadyBootstrapped when any has one, and it refuses when the node
// itself says its etcd data is not empty.
func (c *Cluster) Bootstrap(ctx context.Context, node string, dryRun bool) (BootstrapResult, error) {
	target, err := c.controlPlane(node)
	if err != nil {
		return BootstrapResult{}, err
	}
	for _, cp := range c.inv.Talos.ControlPlanes() {
		members, err := c.connectedEtcdMembers(ctx, cp)
		if err != nil {
			if code := status.Code(err); code == codes.Unavailable || code == codes.FailedPrecondition {
				c.log.Debug("etcd does not run yet", "node", cp.Name, "err", err)
				continue
			}
			return BootstrapResult{}, err
		}
		if len(members) > 0 {
			return BootstrapResult{}, fmt.Errorf("%w: %s reports %d member(s) (%s); nothing was done", ErrAlreadyBootstrapped, cp.Name, len(members), strings.Join(members, ", "))
		}
	}
	res := BootstrapResult{Node: target.Name, DryRun: dryRun}
	if dryRun {
		return res, nil
	}
	cl, err := c.connect(ctx, target)
	if err != nil {
		return res, err
	}
	defer cl.Close() //nolint:errcheck
	if err := cl.Bootstrap(ctx, &machineapi.BootstrapRequest{}); err != nil {
		if status.Code(err) == codes.AlreadyExists {
			return res, fmt.Errorf("%w: %s says its etcd data directory is not empty; nothing was done", ErrAlreadyBootstrapped, target.Name)
		}
		return res, c.nodeErr(target, "bootstrap etcd", err)
	}
	return res, nil
}

// connectedEtcdMembers connects to a control plane and lists the etcd
// members it knows.
func (c *Cluster) connectedEtcdMembers(ctx context.Context, n inventory.TalosNode) ([]string, error) {
	cl, err := c.connect(ctx, n)
	if err != nil {
		return nil, err
	}
	defer cl.Close() //nolint:errcheck
	return c.etcdMembers(ctx, cl, n)
}

// etcdMembers lists the hostnames of the etcd members a control plane
// knows, over an open client.
func (c *Cluster) etcdMembers(ctx context.Context, cl *client.Client, n inventory.TalosNode) ([]string, error) {
	members, err := c.listMembers(ctx, cl, n)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		out = append(out, m.Hostname)
	}
	return out, nil
}
