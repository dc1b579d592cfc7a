package proxmox_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// env is a simulator and a client of it whose logs are captured.
type env struct {
	sim    *pvesim.Server
	client *proxmox.Client
	cfg    proxmox.Config
	logs   *bytes.Buffer
}

// newEnv starts pvesim and a client pinned to its certificate, with fast
// polling and retries so tests stay quick.
func newEnv(t testing.TB, opts ...pvesim.Option) *env {
	t.Helper()
	s, err := pvesim.New(opts...)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	id, secret := s.Token()
	cfg := proxmox.Config{URL: s.URL(), TokenID: id, TokenSecret: secret, Fingerprint: s.Fingerprint()}
	e := &env{sim: s, cfg: cfg, logs: &bytes.Buffer{}}
	e.client = e.newClient(t, cfg)
	return e
}

func (e *env) newClient(t testing.TB, cfg proxmox.Config, opts ...proxmox.Option) *proxmox.Client {
	t.Helper()
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := []proxmox.Option{proxmox.WithLogger(log), proxmox.WithPollInterval(5 * time.Millisecond),
		proxmox.WithRetry(proxmox.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond})}
	c, err := proxmox.New(cfg, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// requests returns the simulator's log of method+path.
func (e *env) requests(method, prefix string) int {
	n := 0
	for _, r := range e.sim.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}
