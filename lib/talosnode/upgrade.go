package talosnode

import (
	"context"
	"errors"
	"fmt"

	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/siderolabs/talos/pkg/machinery/client"
	"github.com/siderolabs/talos/pkg/machinery/resources/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/lib/netx"
)

// SchematicExtension is the extension under which a Talos node reports
// the Image Factory schematic it was built from: the ExtensionStatus
// resource (COSI, namespace runtime) named "schematic", whose version is
// the schematic ID.
const SchematicExtension = "schematic"

// Running is what a node runs, in its own words.
type Running struct {
	// Node is the node's name.
	Node string
	// Version is the Talos version the node reports, e.g. "v1.12.7".
	Version string
	// Schematic is the Image Factory schematic ID the node reports, ""
	// when it reports none (an image not made by the Image Factory).
	Schematic string
}

// Running asks a node which Talos version and schematic it runs: the
// version from its Version API, the schematic from its ExtensionStatus
// resources. A node that does not answer is a *NodeError.
func (c *Cluster) Running(ctx context.Context, node string) (Running, error) {
	ns, err := c.nodes(node)
	if err != nil {
		return Running{}, err
	}
	n := ns[0]
	r := Running{Node: n.Name}
	cl, err := c.connect(ctx, n)
	if err != nil {
		return r, c.nodeErr(n, "ask the running version", err)
	}
	defer cl.Close() //nolint:errcheck
	if r.Version, err = talosVersion(ctx, cl); err != nil {
		return r, c.nodeErr(n, "ask the running version", err)
	}
	if r.Schematic, err = schematic(ctx, cl); err != nil {
		return r, c.nodeErr(n, "list the extensions (ExtensionStatus, namespace runtime)", err)
	}
	return r, nil
}

// talosVersion is the Talos version a node's Version answer names.
func talosVersion(ctx context.Context, cl *client.Client) (string, error) {
	v, err := cl.Version(ctx)
	if err != nil {
		return "", err
	}
	tag := ""
	for _, m := range v.GetMessages() {
		tag = m.GetVersion().GetTag()
	}
	return tag, nil
}

// schematic finds the schematic among the node's extensions.
func schematic(ctx context.Context, cl *client.Client) (string, error) {
	list, err := safe.StateList[*runtime.ExtensionStatus](ctx, cl.COSI, runtime.NewExtensionStatus(runtime.NamespaceName, "").Metadata())
	if err != nil {
		return "", err
	}
	for e := range list.All() {
		if e.TypedSpec().Metadata.Name == SchematicExtension {
			return e.TypedSpec().Metadata.Version, nil
		}
	}
	return "", nil
}

// UpgradeRefusedError means a node answered an upgrade request with a
// refusal: an installer image it could not pull or run, or an etcd that
// would lose quorum or has an unhealthy member. Nothing changed on the
// node.
type UpgradeRefusedError struct {
	// Node is the node's name, Endpoint its API address.
	Node, Endpoint string
	// Image is the installer image asked for.
	Image string
	// Reason is the node's own message.
	Reason string
}

// Error names the node, the image and the node's reason.
func (e *UpgradeRefusedError) Error() string {
	return fmt.Sprintf("%s (%s): the node refused to upgrade to %s: %s", e.Node, e.Endpoint, e.Image, e.Reason)
}

// Upgrade asks a node to upgrade to the installer image (the Image
// Factory's <registry>/installer/<schematic>:<version>), as talosctl
// upgrade does without -force: a control plane first checks that etcd
// keeps quorum. The node acknowledges, then installs and reboots; Upgrade
// does not wait for that (Running says when the node is back). A refusal
// is an *UpgradeRefusedError; a node that does not answer a *NodeError.
func (c *Cluster) Upgrade(ctx context.Context, node, image string) error {
	ns, err := c.nodes(node)
	if err != nil {
		return err
	}
	n := ns[0]
	cl, err := c.connect(ctx, n)
	if err != nil {
		return c.nodeErr(n, "upgrade", err)
	}
	defer cl.Close() //nolint:errcheck
	_, err = cl.UpgradeWithOptions(ctx, client.WithUpgradeImage(image))
	if err == nil {
		return nil
	}
	var pe *netx.PhaseError
	if st, ok := status.FromError(err); ok && !errors.As(err, &pe) {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unauthenticated, codes.Unimplemented:
		default:
			return &UpgradeRefusedError{Node: n.Name, Endpoint: c.endpoint(n), Image: image, Reason: st.Message()}
		}
	}
	return c.nodeErr(n, "upgrade to "+image, err)
}

// CheckNode checks one node as Health checks each: it answers, runs the
// inventory's Talos version, every service runs and is healthy, and a
// control plane's etcd has one member per control plane. Only an unknown
// node or a missing talosconfig is an error; what is wrong with the node
// is in the result's Problems.
func (c *Cluster) CheckNode(ctx context.Context, node string) (NodeHealth, error) {
	ns, err := c.nodes(node)
	if err != nil {
		return NodeHealth{}, err
	}
	if _, err := c.talosconfig(); err != nil {
		return NodeHealth{}, err
	}
	return c.checkNode(ctx, ns[0], c.inv.Talos.ControlPlanes()), nil
}
