package talosnode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
)

// APIPort is the Talos API's port on every node.
const APIPort = 50000

// Cluster talks to the Talos nodes of an inventory.
type Cluster struct {
	inv      *inventory.Inventory
	dir      string
	endpoint func(inventory.TalosNode) string
	log      *slog.Logger
}

// Option configures a Cluster.
type Option func(*Cluster)

// WithEndpoints replaces how a node's API address (host:port) is found
// (default: its inventory IP and port 50000); tests point it at nodesim.
func WithEndpoints(f func(inventory.TalosNode) string) Option {
	return func(c *Cluster) { c.endpoint = f }
}

// EnvEndpoints overrides node API addresses for the talos:* targets:
// "talos-cp-01=127.0.0.1:50001,talos-cp-02=...", for a node reached
// through a tunnel or port forward, or a simulated one.
const EnvEndpoints = "INFRA_TALOS_ENDPOINTS"

// ParseEndpoints reads "node=host:port,..." as EnvEndpoints holds it.
func ParseEndpoints(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%s: %q is not node=host:port", EnvEndpoints, item)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("%s: %s: %q is not host:port", EnvEndpoints, name, addr)
		}
		out[name] = addr
	}
	return out, nil
}

// WithEndpointOverrides reaches the named nodes at other addresses
// (host:port); the others stay at their inventory IP and port 50000.
func WithEndpointOverrides(m map[string]string) Option {
	return func(c *Cluster) {
		def := c.endpoint
		c.endpoint = func(n inventory.TalosNode) string {
			if addr, ok := m[n.Name]; ok {
				return addr
			}
			return def(n)
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Cluster) { c.log = l } }

// New returns the cluster of the inventory, whose generated configs and
// talosconfig are in dir (lib/talosgen's output directory).
func New(inv *inventory.Inventory, dir string, opts ...Option) *Cluster {
	c := &Cluster{inv: inv, dir: dir, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		endpoint: func(n inventory.TalosNode) string { return net.JoinHostPort(n.IP.String(), fmt.Sprint(APIPort)) }}
	for _, o := range opts {
		o(c)
	}
	return c
}

// ErrUnknownNode means a node name is not in the inventory.
var ErrUnknownNode = errors.New("no such Talos node")

// nodes returns the named node, or every node for "".
func (c *Cluster) nodes(name string) ([]inventory.TalosNode, error) {
	if name == "" {
		return c.inv.Talos.Nodes, nil
	}
	var names []string
	for _, n := range c.inv.Talos.Nodes {
		if n.Name == name {
			return []inventory.TalosNode{n}, nil
		}
		names = append(names, n.Name)
	}
	return nil, fmt.Errorf("%w %q in the inventory; the nodes are %s", ErrUnknownNode, name, strings.Join(names, ", "))
}

// controlPlane returns the named node, which must be a control plane, or
// the first control plane for "".
func (c *Cluster) controlPlane(name string) (inventory.TalosNode, error) {
	if name == "" {
		cps := c.inv.Talos.ControlPlanes()
		if len(cps) == 0 {
			return inventory.TalosNode{}, errors.New("the inventory has no control-plane node")
		}
		return cps[0], nil
	}
	ns, err := c.nodes(name)
	if err != nil {
		return inventory.TalosNode{}, err
	}
	if ns[0].Role != inventory.RoleControlPlane {
		return inventory.TalosNode{}, fmt.Errorf("%s is a %s; this needs a control-plane node", name, ns[0].Role)
	}
	return ns[0], nil
}

// talosconfig reads the talosconfig talos:genconfig wrote.
func (c *Cluster) talosconfig() (*clientconfig.Config, error) {
	path := filepath.Join(c.dir, talosgen.TalosconfigFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: run go run mage.go talos:genconfig first", path)
	}
	if err != nil {
		return nil, err
	}
	cfg, err := clientconfig.FromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// connect opens an authenticated client to one node.
func (c *Cluster) connect(ctx context.Context, n inventory.TalosNode) (*client.Client, error) {
	tc, err := c.talosconfig()
	if err != nil {
		return nil, err
	}
	cl, err := client.New(ctx, client.WithConfig(tc), client.WithEndpoints(c.endpoint(n)))
	if err != nil {
		return nil, fmt.Errorf("%s: connect to the Talos API at %s: %w", n.Name, c.endpoint(n), err)
	}
	return cl, nil
}

// connectInsecure opens a client to a node in maintenance mode: TLS without
// verifying the node, and no client certificate, as talosctl --insecure.
func (c *Cluster) connectInsecure(ctx context.Context, n inventory.TalosNode) (*client.Client, error) {
	cl, err := client.New(ctx, client.WithTLSConfig(&tls.Config{InsecureSkipVerify: true}), client.WithEndpoints(c.endpoint(n))) //nolint:gosec // maintenance mode has no identity to verify
	if err != nil {
		return nil, fmt.Errorf("%s: connect to the Talos API at %s: %w", n.Name, c.endpoint(n), err)
	}
	return cl, nil
}

// inMaintenance reports an error that says the node answered with a
// certificate the cluster's CA did not sign: a fresh node in maintenance
// mode (or a node of another cluster).
func inMaintenance(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "authentication handshake failed") &&
		(strings.Contains(msg, "unknown authority") || strings.Contains(msg, "failed to verify certificate"))
}

// NodeError is a failed call to one node.
type NodeError struct {
	// Node is the node's name, Endpoint its API address.
	Node, Endpoint string
	// Op says what was being done.
	Op string
	// Err is the cause.
	Err error
}

// Error names the node, the address and the operation.
func (e *NodeError) Error() string {
	msg := e.Err.Error()
	if st, ok := status.FromError(e.Err); ok {
		msg = fmt.Sprintf("%s (%s)", st.Message(), st.Code())
	}
	return fmt.Sprintf("%s (%s): %s: %s", e.Node, e.Endpoint, e.Op, msg)
}

// Unwrap returns the cause.
func (e *NodeError) Unwrap() error { return e.Err }

func (c *Cluster) nodeErr(n inventory.TalosNode, op string, err error) error {
	return &NodeError{Node: n.Name, Endpoint: c.endpoint(n), Op: op, Err: err}
}
