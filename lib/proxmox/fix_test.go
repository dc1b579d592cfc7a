package proxmox_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
	"github.com/wdiazux/infra/lib/proxmox"
)

// TestConnectionFix: what a failed first call says to do names what was
// tried and what to change.
func TestConnectionFix(t *testing.T) {
	// fixOf makes the first call of a client of cfg and returns what
	// ConnectionFix says about its error.
	fixOf := func(t *testing.T, cfg proxmox.Config) string {
		t.Helper()
		c, err := proxmox.New(cfg, proxmox.WithRetry(proxmox.RetryPolicy{Attempts: 1}))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
		defer cancel()
		_, err = c.Version(ctx)
		require.NoError(t, ctx.Err(), "the hang guard ended the call, not the limit")
		require.Error(t, err)
		return c.ConnectionFix(err)
	}

	t.Run("a port that accepts TCP but never answers TLS", func(t *testing.T) {
		s, cfg := blackHoleConfig(t, netxtest.AcceptOnly, netx.Timeouts{TLSHandshake: 50 * time.Millisecond})
		fix := fixOf(t, cfg)
		_, port, _ := net.SplitHostPort(s.Addr())
		require.Contains(t, fix, "port "+port+" of 127.0.0.1 accepts TCP connections but does not answer TLS")
		require.NotContains(t, fix, "8006 ")
	})

	t.Run("a pinned fingerprint that is not the host's", func(t *testing.T) {
		e := newEnv(t)
		cfg := e.cfg
		cfg.Fingerprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
		fix := fixOf(t, cfg)
		require.NotContains(t, fix, "pin it with", "it is already pinned")
		require.Contains(t, fix, "PROXMOX_TLS_FINGERPRINT pins 00:11:22:33:44:55:66:77…")
		require.Contains(t, fix, "the host presents "+e.sim.Fingerprint()[:23]+"…")
		require.Contains(t, fix, "Node → System → Certificates")
	})

	t.Run("a refused connection names the port tried", func(t *testing.T) {
		e := newEnv(t)
		cfg := e.cfg
		cfg.URL = "https://127.0.0.1:0/api2/json"
		fix := fixOf(t, cfg)
		require.Contains(t, fix, "nothing accepts connections on port 0 of 127.0.0.1")
		require.NotContains(t, fix, "must be reachable on port 8006")
	})

	t.Run("a refused token names the variables that hold it", func(t *testing.T) {
		e := newEnv(t)
		cfg := e.cfg
		cfg.TokenSecret = "connection-fix-test-secret"
		fix := fixOf(t, cfg)
		require.Contains(t, fix, "the token "+cfg.TokenID+" was refused: check PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET")
		require.NotContains(t, fix, cfg.TokenSecret)
	})
}

func TestClientSaysWhereItConnects(t *testing.T) {
	e := newEnv(t)
	host, port, err := net.SplitHostPort(e.client.Addr())
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host)
	require.NotEmpty(t, port)
	require.Equal(t, e.sim.URL(), e.client.URL())
	require.Equal(t, e.cfg.TokenID, e.client.TokenID())

	c, err := proxmox.New(proxmox.Config{URL: "https://pve.example:8006", TokenID: "infra@pve!infra", TokenSecret: "addr-test-secret"})
	require.NoError(t, err)
	require.Equal(t, "pve.example:8006", c.Addr())
}
