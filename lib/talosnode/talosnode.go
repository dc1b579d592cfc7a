package talosnode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/talosgen"
)

// APIPort is the Talos API's port on every node.
const APIPort = 50000

// Cluster talks to the Talos nodes of an inventory.
type Cluster struct {
	inv      *inventory.Inventory
	dir      string
	endpoint func(inventory.TalosNode) string
	// kubeEndpoint is where the Kubernetes API server is reached, when
	// not at the config's cluster endpoint.
	kubeEndpoint string
	timeouts     netx.Timeouts
	log          *slog.Logger
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

// EnvKubernetesEndpoint overrides where the cluster's Kubernetes API server
// is reached for the talos:* and cluster:* targets (WithKubernetesEndpoint),
// e.g. "https://127.0.0.1:6443" through a tunnel, or a simulated cluster.
const EnvKubernetesEndpoint = "INFRA_KUBERNETES_ENDPOINT"

// WithKubernetesEndpoint says the cluster's Kubernetes API server is
// reached at url (scheme, host and port) rather than at the cluster
// endpoint of its control plane's config: CheckKubeconfig then expects a
// kubeconfig for url. An empty url keeps the config's endpoint.
func WithKubernetesEndpoint(url string) Option { return func(c *Cluster) { c.kubeEndpoint = url } }

// WithTimeouts sets the time limits of the connections to the nodes and
// of each call (zero fields take netx's defaults).
func WithTimeouts(t netx.Timeouts) Option { return func(c *Cluster) { c.timeouts = t } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Cluster) { c.log = l } }

// New returns the cluster of the inventory, whose generated configs and
// talosconfig are in dir (lib/talosgen's output directory).
func New(inv *inventory.Inventory, dir string, opts ...Option) *Cluster {
	c := &Cluster{inv: inv, dir: dir, log: slog.New(slog.DiscardHandler),
		endpoint: func(n inventory.TalosNode) string { return net.JoinHostPort(n.IP.String(), fmt.Sprint(APIPort)) }}
	for _, o := range opts {
		o(c)
	}
	c.timeouts = c.timeouts.WithDefaults()
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
		return inventory.TalosNode{}, fmt.Errorf("%w: %s is a %s; this needs a control-plane node", ErrNotControlPlane, name, ns[0].Role)
	}
	return ns[0], nil
}

// talosconfig reads the talosconfig generated with the node configs.
func (c *Cluster) talosconfig() (*clientconfig.Config, error) {
	path := filepath.Join(c.dir, talosgen.TalosconfigFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &MissingFileError{Path: path, File: Talosconfig}
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
	return c.open(ctx, n, client.WithConfig(tc))
}

// connectInsecure opens a client to a node in maintenance mode: TLS without
// verifying the node, and no client certificate, as talosctl --insecure.
func (c *Cluster) connectInsecure(ctx context.Context, n inventory.TalosNode) (*client.Client, error) {
	return c.open(ctx, n, client.WithTLSConfig(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // maintenance mode has no identity to verify
}

// open makes a client of one node under the time limits, and waits until
// its connection is set up or fails. The machinery client dials lazily, so
// without this wait a node that accepts TCP and never answers would hold
// the first call for gRPC's own 20 s, with an error naming neither the
// node nor the phase. A connection that failed for another reason (a
// refusal, a certificate the node's CA did not sign) is left for the first
// call to report, as maintenance mode is told from that error.
func (c *Cluster) open(ctx context.Context, n inventory.TalosNode, auth client.OptionFunc) (*client.Client, error) {
	ep := c.endpoint(n)
	conn := netx.NewConnector(ep, c.timeouts, netx.WithLogger(c.log))
	cl, err := client.New(ctx, auth, client.WithEndpoints(ep), client.WithGRPCDialOptions(
		grpc.WithContextDialer(conn.DialContext),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: c.timeouts.Dial + c.timeouts.TLSHandshake}),
		grpc.WithChainUnaryInterceptor(callLimit(ep, c.timeouts.Overall)),
	))
	if err != nil {
		return nil, fmt.Errorf("%s: connect to the Talos API at %s: %w", n.Name, ep, err)
	}
	if err := awaitReady(ctx, cl.Conn(), conn); err != nil {
		_ = cl.Close()
		return nil, c.nodeErr(n, "connect to the Talos API", err)
	}
	return cl, nil
}

// awaitReady waits until the connection is Ready (then the setup limit
// stops) or has failed. It returns the connector's *netx.PhaseError when
// one of its limits ran out, nil otherwise: the first call then reports
// any other failure.
func awaitReady(ctx context.Context, cc *grpc.ClientConn, conn *netx.Connector) error {
	t := conn.Timeouts()
	budget := t.Dial + t.TLSHandshake
	guard, cancel := context.WithTimeout(ctx, budget+time.Second)
	defer cancel()
	cc.Connect()
	tried := false
	for {
		switch s := cc.GetState(); s {
		case connectivity.Ready:
			conn.Established()
			return nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			return timeoutOf(conn)
		case connectivity.Idle:
			if tried {
				return timeoutOf(conn)
			}
			cc.Connect()
		case connectivity.Connecting:
			tried = true
		}
		if !cc.WaitForStateChange(guard, cc.GetState()) {
			if ctx.Err() != nil {
				return nil // the caller gave up; the call says so
			}
			if err := timeoutOf(conn); err != nil {
				return err
			}
			// Neither limit ran out, yet the connection is not set up (a
			// name that takes that long to resolve, say).
			return &netx.PhaseError{Host: conn.Host(), Phase: netx.PhaseDial, Limit: netx.LimitDial, After: budget + time.Second, Err: context.DeadlineExceeded}
		}
	}
}

// timeoutOf is the connector's error when one of its limits ran out.
func timeoutOf(conn *netx.Connector) error {
	if err := conn.Err(); netx.IsTimeout(err) {
		return err
	}
	return nil
}

// callLimit bounds each unary call with the overall limit; a call that
// runs out is a *netx.PhaseError naming the node's address. Streams (logs,
// the support bundle) report their own progress and are not bounded.
func callLimit(host string, limit time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		// The limit is ours to report when it is nearer than the caller's
		// deadline. The node may report it first (gRPC sends the deadline
		// along), as DeadlineExceeded, a moment before callCtx ends here.
		d, has := ctx.Deadline()
		ours := !has || d.After(time.Now().Add(limit))
		callCtx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		err := invoker(callCtx, method, req, reply, cc, opts...)
		if err != nil && ours && ctx.Err() == nil && (callCtx.Err() != nil || status.Code(err) == codes.DeadlineExceeded) {
			return &netx.PhaseError{Host: host, Phase: netx.PhaseResponseHeader, Limit: netx.LimitOverall, After: limit, Err: err}
		}
		return err
	}
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

// nodeErr says which node failed doing op; an error that already names
// the node is kept as it is.
func (c *Cluster) nodeErr(n inventory.TalosNode, op string, err error) error {
	var ne *NodeError
	if errors.As(err, &ne) && ne.Node == n.Name {
		return err
	}
	return &NodeError{Node: n.Name, Endpoint: c.endpoint(n), Op: op, Err: err}
}
