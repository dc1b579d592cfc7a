package talosnode_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
	"github.com/wdiazux/infra/lib/talosnode"
)

// hangGuard ends a test whose limit did not work; the test then fails.
const hangGuard = 20 * time.Second

// stalledNode is a Talos API port that completes TLS and gRPC's setup, then
// never answers a call.
func stalledNode(t *testing.T) string {
	t.Helper()
	cert, err := netxtest.SelfSigned()
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			<-stream.Context().Done()
			return stream.Context().Err()
		}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// TestBlackHoles: a node whose API accepts and never answers ends each call
// within its limit, with an error naming the node, its address and the phase.
func TestBlackHoles(t *testing.T) {
	e := newEnv(t, homelabFile)
	tests := []struct {
		name    string
		addr    func(t *testing.T) string
		limits  netx.Timeouts
		phase   netx.Phase
		limit   netx.Limit
		message string
		// health: the health check reaches the same phase (it does not
		// try maintenance mode, so a node with a foreign certificate fails
		// its TLS check first).
		health bool
	}{
		{"TCP accepted, TLS never answered", blackHole(netxtest.AcceptOnly), netx.Timeouts{TLSHandshake: 100 * time.Millisecond},
			netx.PhaseTLSHandshake, netx.LimitTLSHandshake, "TLS handshake did not finish within 100ms (the host accepted TCP but never answered TLS; is this port a TLS service?)", true},
		{"TLS done, gRPC never set up", blackHole(netxtest.SilentAfterTLS), netx.Timeouts{TLSHandshake: 100 * time.Millisecond},
			netx.PhaseTLSHandshake, netx.LimitTLSHandshake, "TLS handshake did not finish within 100ms (the host answered but did not finish setting up the connection)", false},
		{"connected, the call never answered", stalledNode, netx.Timeouts{Overall: 300 * time.Millisecond},
			netx.PhaseResponseHeader, netx.LimitOverall, "the request did not finish within 300ms (its overall limit); it was at: the answer", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr(t)
			c := talosnode.New(e.inv, e.dir, talosnode.WithTimeouts(tt.limits),
				talosnode.WithEndpoints(func(inventory.TalosNode) string { return addr }))
			ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
			defer cancel()
			_, err := c.Apply(ctx, talosnode.ApplyOptions{})
			require.NoError(t, ctx.Err(), "the hang guard ended the call, not the limit")
			var ne *talosnode.NodeError
			require.ErrorAs(t, err, &ne)
			require.Equal(t, "talos-cp-01", ne.Node)
			netxtest.RequireLimit(t, err, addr, tt.phase, tt.limit)
			require.ErrorContains(t, err, "talos-cp-01 ("+addr+"): ")
			require.ErrorContains(t, err, addr+": "+tt.message)
			if !tt.health {
				return
			}
			rep, err := c.Health(ctx, talosnode.HealthOptions{})
			require.NoError(t, ctx.Err(), "the hang guard ended the health check, not the limit")
			require.ErrorIs(t, err, talosnode.ErrUnhealthy)
			require.Len(t, rep.Nodes, 1)
			require.NotEmpty(t, rep.Nodes[0].Problems)
			require.Contains(t, rep.Nodes[0].Problems[0], addr+": "+tt.message)
		})
	}
}

func blackHole(b netxtest.Behaviour) func(t *testing.T) string {
	return func(t *testing.T) string { return netxtest.New(t, b).Addr() }
}
