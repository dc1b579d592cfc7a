package infra_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestImagesBuildTarget runs images:build through go run mage.go against
// a simulated host holding the Ubuntu base VM, with the real Packer from
// the tool cache and the communicator off (PKR_VAR_communicator=none, as
// for proxmox:sim): the dry run names what it would build and changes
// nothing, the build streams its steps and reports the template, a re-run
// leaves it alone, a template whose base VM is missing says which
// import to run, and the Windows template without its ISOs says what to
// set. The token secret is never in the output.
func TestImagesBuildTarget(t *testing.T) {
	for _, command := range []string{"packer", "packer-plugin-proxmox", "packer-plugin-ansible"} {
		tool, err := testsuite.GoTool(inventory.DefaultFile, command)
		require.NoError(t, err)
		testtool.RequireGoTool(t, tool)
	}
	inv, err := inventory.Load(inventory.DefaultFile)
	require.NoError(t, err)
	sim, err := pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, true)), pvesim.WithGuestBootDelay(200*time.Millisecond))
	require.NoError(t, err)
	defer sim.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, sim.CACertPEM(), 0o644))
	id, secret := sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, CAFile: ca}, proxmox.WithPollInterval(5*time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	img, px := inv.Images["ubuntu"], inv.Proxmox
	_, err = client.CreateVM(ctx, px.Node, img.BaseVMID, proxmox.Params{
		"name": "ubuntu-24-04-base", "cpu": "host", "scsihw": "virtio-scsi-single", "scsi0": proxmox.Disk{Storage: px.Storage.Disks, SizeGiB: 4}.String(),
		"ide2": px.Storage.Disks + ":cloudinit", "net0": proxmox.NIC{Bridge: px.Bridge}.String(), "agent": "enabled=1",
		"tags": inventory.ManagedTag + ";ubuntu;base",
	}, nil)
	require.NoError(t, err)
	require.NoError(t, client.ConvertToTemplate(ctx, px.Node, img.BaseVMID))
	sim.Tick()
	env := []string{"PROXMOX_URL=" + sim.URL(), "PROXMOX_TOKEN_ID=" + id, "PROXMOX_TOKEN_SECRET=" + secret, "PROXMOX_CA_FILE=" + ca,
		"PROXMOX_TLS_INSECURE=", "PROXMOX_TLS_FINGERPRINT=", "PKR_VAR_communicator=none"}

	start := len(sim.Requests())
	out, code := mageEnv(t, env, "images:build", "ubuntu", "-dryrun")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "ubuntu    would build  9102  ubuntu-24-04-template  9100 ubuntu-24-04-base")
	require.Empty(t, pvesim.Mutating(sim.Requests()[start:]), "a dry run changes nothing")

	out, code = mageEnv(t, env, "images:build", "ubuntu")
	require.Equal(t, 0, code, out)
	for _, step := range []string{"==> ubuntu: Creating VM", "==> ubuntu: Starting VM", "==> ubuntu: Converting VM to template",
		"ubuntu | ==> golden.proxmox-clone.golden: Creating VM"} {
		require.Contains(t, out, step)
	}
	require.Regexp(t, `ubuntu +built +9102 +ubuntu-24-04-template +9100 ubuntu-24-04-base +\d`, out)
	require.NotContains(t, out, secret)
	cfg, err := client.VMConfig(ctx, px.Node, img.TemplateID)
	require.NoError(t, err)
	require.Equal(t, "1", cfg.Get("template"))

	out, code = mageEnv(t, env, "images:build", "ubuntu")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "ubuntu    exists")

	out, code = mageEnv(t, env, "images:build", "arch")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "packer/arch/arch.pkr.hcl clones base VM 9300 (images.arch.base_vm_id), which does not exist on node pve")
	require.Contains(t, out, "run: go run mage.go images:import arch")

	out, code = mageEnv(t, env, "images:build", "windows", "-dryrun")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "images.windows.media is not set in the inventory")
	require.Contains(t, out, "see: packer/windows/README.md")

	out, code = mageEnv(t, env, "images:build", "gentoo")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `no such Packer template "gentoo"`)
	require.True(t, strings.Contains(out, "images:build <ubuntu|debian|arch|nixos|windows|all>"), out)
}
