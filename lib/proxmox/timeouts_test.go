package proxmox_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
	"github.com/wdiazux/infra/lib/proxmox"
)

// hangGuard ends a test whose limit did not work; the test then fails.
const hangGuard = 20 * time.Second

// blackHoleConfig points a client at a misbehaving loopback server,
// pinned to its certificate.
func blackHoleConfig(t *testing.T, b netxtest.Behaviour, limits netx.Timeouts) (*netxtest.Server, proxmox.Config) {
	t.Helper()
	s := netxtest.New(t, b)
	return s, proxmox.Config{URL: s.URL(), TokenID: "infra@pve!test", TokenSecret: "black-hole-secret", Fingerprint: s.Fingerprint(), Timeouts: limits}
}

// TestBlackHoles: a host that accepts and never answers ends each call
// within its limit, with an error naming the host and the phase.
func TestBlackHoles(t *testing.T) {
	tests := []struct {
		name      string
		behaviour netxtest.Behaviour
		limits    netx.Timeouts
		phase     netx.Phase
		limit     netx.Limit
		message   string
	}{
		{"TCP accepted, TLS never answered", netxtest.AcceptOnly, netx.Timeouts{TLSHandshake: 50 * time.Millisecond},
			netx.PhaseTLSHandshake, netx.LimitTLSHandshake, "TLS handshake did not finish within 50ms (the host accepted TCP but never answered TLS; is this port a TLS service?)"},
		{"TLS done, no answer", netxtest.SilentAfterTLS, netx.Timeouts{ResponseHeader: 50 * time.Millisecond},
			netx.PhaseResponseHeader, netx.LimitResponseHeader, "no answer within 50ms of sending the request (the connection works but the service does not answer: is it hung or overloaded?)"},
		{"the answer's body stalls", netxtest.StallBodyTLS, netx.Timeouts{Overall: time.Second},
			netx.PhaseBody, netx.LimitOverall, "the request did not finish within 1s (its overall limit); it was at: reading the answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, cfg := blackHoleConfig(t, tt.behaviour, tt.limits)
			c, err := proxmox.New(cfg)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
			defer cancel()
			_, err = c.Version(ctx)
			require.NoError(t, ctx.Err(), "the hang guard ended the call, not the limit")
			var netErr *proxmox.NetworkError
			require.ErrorAs(t, err, &netErr)
			require.Equal(t, 1, netErr.Attempts, "a limit that ran out is not retried")
			netxtest.RequireLimit(t, err, s.Addr(), tt.phase, tt.limit)
			require.EqualError(t, err, "GET /version: no answer from Proxmox: "+s.Addr()+": "+tt.message)
		})
	}
}
