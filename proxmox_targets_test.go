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

// TestTalosImportSaysWhatToRunOnAMissingPrivilege: the client's 403 names
// the path and the privilege; the target adds the command that lists every
// privilege the plan needs.
func TestTalosImportSaysWhatToRunOnAMissingPrivilege(t *testing.T) {
	inv, err := inventory.Load(inventory.DefaultFile)
	require.NoError(t, err)
	setup := pvesim.SetupFor(inv, true)
	setup.Tokens = []pvesim.Token{{ID: "infra@pve!auditor", Secret: "auditor-secret", ACL: []pvesim.ACL{{Path: "/", Role: "PVEAuditor", Propagate: true}}}}
	sim, err := pvesim.New(pvesim.WithSetup(setup))
	require.NoError(t, err)
	defer sim.Close()
	factory := factorysim.New(factorysim.WithPayload(1 << 20))
	defer factory.Close()
	dir := t.TempDir()
	text := strings.Replace(readFile(t, inventory.DefaultFile), "factory_url: https://factory.talos.dev", "factory_url: "+factory.URL(), 1)
	file := filepath.Join(dir, "homelab.yaml")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
	id, secret := sim.Token()
	out, code := mageEnv(t, []string{proxmox.EnvURL + "=" + sim.URL(), proxmox.EnvTokenID + "=" + id, proxmox.EnvTokenSecret + "=" + secret,
		proxmox.EnvTLSFingerprint + "=" + sim.Fingerprint(), proxmox.EnvUser + "=", proxmox.EnvToken + "="}, "talos:import", "-file="+file)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "403 Permission check failed")
	require.Contains(t, out, "grant the token this privilege on this path (Datacenter → Permissions)")
	require.Contains(t, out, "\nrun: go run mage.go proxmox:preflight")
	require.NotContains(t, out, secret)
}
