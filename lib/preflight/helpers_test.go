package preflight_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// hangGuard ends a test whose time limit did not work; the test then fails.
const hangGuard = 20 * time.Second

// env is a simulator and a client of it.
type env struct {
	sim    *pvesim.Server
	client *proxmox.Client
	cfg    proxmox.Config
}

// newEnv starts pvesim and a client pinned to its certificate, with fast
// retries so tests stay quick.
func newEnv(t testing.TB, opts ...pvesim.Option) *env {
	t.Helper()
	s, err := pvesim.New(opts...)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	id, secret := s.Token()
	e := &env{sim: s, cfg: proxmox.Config{URL: s.URL(), TokenID: id, TokenSecret: secret, Fingerprint: s.Fingerprint()}}
	e.client = e.newClient(t, e.cfg)
	return e
}

func (e *env) newClient(t testing.TB, cfg proxmox.Config) *proxmox.Client {
	t.Helper()
	c, err := proxmox.New(cfg, proxmox.WithRetry(proxmox.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}))
	require.NoError(t, err)
	return c
}
