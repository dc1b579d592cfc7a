package infra_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

// TestPreflightTargetOnABlackHole runs proxmox:preflight against a port
// that accepts TCP and never answers TLS: the target says what it checks
// before it waits, and ends within the TLS limit with the host, the phase
// and a fix naming the port it tried.
func TestPreflightTargetOnABlackHole(t *testing.T) {
	s := netxtest.New(t, netxtest.AcceptOnly)
	// Building the magefile takes most of the guard; the limit is 200ms.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "mage.go", "proxmox:preflight")
	cmd.Env = append(os.Environ(), proxmox.EnvURL+"="+s.URL(), proxmox.EnvTokenID+"=infra@pve!test", proxmox.EnvTokenSecret+"=black-hole-secret",
		proxmox.EnvTLSFingerprint+"="+s.Fingerprint(), proxmox.EnvUser+"=", proxmox.EnvToken+"=", netx.EnvTimeouts+"=tls-handshake=200ms")
	cmd.WaitDelay = 10 * time.Second // go run's child keeps the output open after go run is killed
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	require.NoError(t, ctx.Err(), "the hang guard ended the target, not the TLS limit:\n%s", out)
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v\n%s", err, out)
	require.Equal(t, 1, exit.ExitCode(), out)
	require.Contains(t, out, "checking TLS, API token and PVE version on "+s.Addr()+" …\n")
	require.Contains(t, out, "GET /version: no answer from Proxmox: "+s.Addr()+": TLS handshake did not finish within 200ms")
	require.Contains(t, out, "accepts TCP connections but does not answer TLS")
	require.Contains(t, out, "preflight: 1 check(s) failed")
}

// importHost is a simulated Proxmox VE host and a stand-in Image Factory
// for talos:import: env points the targets at the host, file is the
// repository's inventory pointed at the factory, in dir.
type importHost struct {
	sim       *pvesim.Server
	factory   *factorysim.Server
	env       []string
	dir, file string
	secret    string
}

// newImportHost starts the host with setup, and the factory; both stop
// when the test ends.
func newImportHost(t *testing.T, setup pvesim.Setup) importHost {
	t.Helper()
	sim, err := pvesim.New(pvesim.WithSetup(setup))
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	factory := factorysim.New(factorysim.WithPayload(1 << 20))
	t.Cleanup(factory.Close)
	h := importHost{sim: sim, factory: factory, dir: t.TempDir()}
	text := strings.Replace(readFile(t, inventory.DefaultFile), "factory_url: https://factory.talos.dev", "factory_url: "+factory.URL(), 1)
	h.file = filepath.Join(h.dir, "homelab.yaml")
	require.NoError(t, os.WriteFile(h.file, []byte(text), 0o644))
	id, secret := sim.Token()
	h.secret = secret
	h.env = []string{proxmox.EnvURL + "=" + sim.URL(), proxmox.EnvTokenID + "=" + id, proxmox.EnvTokenSecret + "=" + secret,
		proxmox.EnvTLSFingerprint + "=" + sim.Fingerprint(), proxmox.EnvUser + "=", proxmox.EnvToken + "="}
	return h
}

// TestTalosImportSaysWhatToRunOnAMissingPrivilege: the client's 403 names
// the path and the privilege; the target adds the command that lists every
// privilege the plan needs.
func TestTalosImportSaysWhatToRunOnAMissingPrivilege(t *testing.T) {
	inv, err := inventory.Load(inventory.DefaultFile)
	require.NoError(t, err)
	setup := pvesim.SetupFor(inv, true)
	setup.Tokens = []pvesim.Token{{ID: "infra@pve!auditor", Secret: "auditor-secret", ACL: []pvesim.ACL{{Path: "/", Role: "PVEAuditor", Propagate: true}}}}
	h := newImportHost(t, setup)
	out, code := mageEnv(t, h.env, "talos:import", "-file="+h.file)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "403 Permission check failed")
	require.Contains(t, out, "grant the token this privilege on this path (Datacenter → Permissions)")
	require.Contains(t, out, "\nrun: go run mage.go proxmox:preflight")
	require.NotContains(t, out, h.secret)
}
