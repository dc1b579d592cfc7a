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
	const pinned = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
	e := newEnv(t)
	hole, holeCfg := blackHoleConfig(t, netxtest.AcceptOnly, netx.Timeouts{TLSHandshake: 50 * time.Millisecond})
	_, holePort, _ := net.SplitHostPort(hole.Addr())
	tests := []struct {
		name    string
		cfg     proxmox.Config
		want    []string
		notWant []string
	}{
		{"a port that accepts TCP but never answers TLS", holeCfg,
			[]string{"port " + holePort + " of 127.0.0.1 accepts TCP connections but does not answer TLS"}, []string{"8006 "}},
		{"a pinned fingerprint that is not the host's", with(e.cfg, func(c *proxmox.Config) { c.Fingerprint = pinned }),
			[]string{"PROXMOX_TLS_FINGERPRINT pins 00:11:22:33:44:55:66:77…", "the host presents " + e.sim.Fingerprint()[:23] + "…", "Node → System → Certificates"},
			[]string{"pin it with"}},
		{"a refused connection names the port tried", with(e.cfg, func(c *proxmox.Config) { c.URL = "https://127.0.0.1:0/api2/json" }),
			[]string{"nothing accepts connections on port 0 of 127.0.0.1"}, []string{"must be reachable on port 8006"}},
		{"a refused token names the variables that hold it", with(e.cfg, func(c *proxmox.Config) { c.TokenSecret = "connection-fix-test-secret" }),
			[]string{"the token " + e.cfg.TokenID + " was refused: check PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET"}, []string{"connection-fix-test-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := proxmox.New(tt.cfg, proxmox.WithRetry(proxmox.RetryPolicy{Attempts: 1}))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
			defer cancel()
			_, err = c.Version(ctx)
			require.NoError(t, ctx.Err(), "the hang guard ended the call, not the limit")
			require.Error(t, err)
			fix := c.ConnectionFix(err)
			for _, w := range tt.want {
				require.Contains(t, fix, w)
			}
			for _, w := range tt.notWant {
				require.NotContains(t, fix, w)
			}
		})
	}
}

// with returns a copy of cfg changed by change.
func with(cfg proxmox.Config, change func(*proxmox.Config)) proxmox.Config {
	change(&cfg)
	return cfg
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
