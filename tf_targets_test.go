package infra_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/clustersim"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/tfaccept"
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

// TestTfTargetsCycleTheVMsStack runs the tf targets on the vms stack
// against a simulated host holding the enabled VMs' image templates:
// apply creates them and prints the summary, a re-plan has nothing to do,
// the outputs name them, a destroy is refused without -allowdestroy and
// leaves no VM with it.
func TestTfTargetsCycleTheVMsStack(t *testing.T) {
	h := clustersim.New(t, inventory.DefaultFile)
	ctx := t.Context()
	require.Len(t, tfaccept.ImageTemplates(t, h.Client, h.Inv), 2, "the ubuntu and debian templates")
	var enabled []inventory.VM
	for _, v := range h.Inv.VMs {
		if v.Enabled {
			enabled = append(enabled, v)
		}
	}
	require.NotEmpty(t, enabled)
	env := append(h.Env(), "INFRA_TERRAFORM=")

	out, code := mageEnv(t, env, "tf:apply", "vms", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "using terraform ")
	require.Regexp(t, fmt.Sprintf(`(?m)^vms plan: %d to create, 0 to update, 0 to replace, 0 to destroy$`, len(enabled)+1), out)
	for _, v := range enabled {
		cfg, err := h.Client.VMConfig(ctx, h.Inv.Proxmox.Node, v.VMID)
		require.NoError(t, err)
		require.Contains(t, cfg.Values["ipconfig0"], "ip="+v.IP.String()+"/24")
		require.Equal(t, h.Inv.User.Name, cfg.Values["ciuser"])
	}

	out, code = mageEnv(t, env, "tf:plan", "vms", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "nothing to do")

	out, code = mageEnv(t, env, "tf:output", "vms", "-file="+h.File)
	require.Equal(t, 0, code, out)
	for _, v := range enabled {
		require.Contains(t, out, v.Name)
	}

	before := len(h.Sim.Requests())
	out, code = mageEnv(t, env, "tf:destroy", "vms", "-file="+h.File)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "-allowdestroy")
	require.Empty(t, pvesim.Mutating(h.Sim.Requests()[before:]), "a refused destroy changes nothing")

	out, code = mageEnv(t, env, "tf:destroy", "vms", "-allowdestroy", "-file="+h.File)
	require.Equal(t, 0, code, out)
	for _, v := range enabled {
		_, err := h.Client.VMConfig(ctx, h.Inv.Proxmox.Node, v.VMID)
		require.ErrorIs(t, err, proxmox.ErrVMNotFound, "VM %d is gone", v.VMID)
	}
	t.Logf("tf:destroy vms -allowdestroy:\n%s", out)
}
