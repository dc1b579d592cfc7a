package infra_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestTfTargetsRefuseBeforeChanging runs tf:apply against a simulated host
// that lacks the Talos template: the target names the binary, the field
// and the next command, and the host receives no mutating request. An
// unknown stack is refused by name.
func TestTfTargetsRefuseBeforeChanging(t *testing.T) {
	testtool.Require(t, "terraform")
	inv, err := inventory.Load(inventory.DefaultFile)
	require.NoError(t, err)
	sim, err := pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, true)))
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, sim.CACertPEM(), 0o600))
	id, secret := sim.Token()
	env := []string{proxmox.EnvURL + "=" + sim.URL(), proxmox.EnvTokenID + "=" + id, proxmox.EnvTokenSecret + "=" + secret,
		proxmox.EnvCAFile + "=" + ca, proxmox.EnvTLSFingerprint + "=", proxmox.EnvUser + "=", proxmox.EnvToken + "=", "INFRA_TERRAFORM="}

	out, code := mageEnv(t, env, "tf:apply", "talos", "-allowdestroy")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "using terraform ")
	require.Contains(t, out, "talos.template_id: template 9000 (talos template): no VM 9000 on node pve")
	require.Contains(t, out, "run: go run mage.go talos:import")
	require.NotContains(t, out, secret)
	for _, r := range sim.Requests() {
		require.Equal(t, http.MethodGet, r.Method, "%s %s", r.Method, r.Path)
	}

	out, code = mageEnv(t, env, "tf:plan", "nomad")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `unknown stack "nomad": use talos (terraform/talos) or vms (terraform/traditional-vms)`)
}
