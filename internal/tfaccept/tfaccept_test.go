package tfaccept_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// homelab is the repository's inventory: the host, the template and the
// node the test declares, and the provider's version.
var homelab = filepath.Join("..", "..", inventory.DefaultFile)

// rig is a simulated host holding the Talos template and a Terraform
// workspace with the bpg provider from the tool cache.
type rig struct {
	*tfaccept.Host
	ws *tfaccept.Workspace
}

func newRig(t *testing.T) *rig {
	t.Helper()
	tools := tfaccept.RequireTools(t, homelab)
	host := tfaccept.NewTalosHost(t, homelab)
	ws := tools.Workspace(t, filepath.Join("testdata", "vm"), host.Sim.CACertPEM())
	require.NoError(t, ws.AddModule("proxmox-vm", filepath.Join("..", "..", "terraform", "modules", "proxmox-vm")))
	return &rig{Host: host, ws: ws}
}

// vars writes the variables of testdata/vm from the inventory's first Talos
// node, with cores and OS disk size changed by the deltas.
func (r *rig) vars(t *testing.T, name string, started bool, addCores, addDiskGiB int) string {
	t.Helper()
	node := r.Inv.Talos.Nodes[0]
	dns := make([]string, len(r.Inv.Network.DNSServers))
	for i, a := range r.Inv.Network.DNSServers {
		dns[i] = a.String()
	}
	data, err := json.Marshal(map[string]any{
		"endpoint":    r.Endpoint(),
		"api_token":   r.APIToken(),
		"node":        r.Inv.Proxmox.Node,
		"template_id": r.Inv.Talos.TemplateID,
		"datastore":   r.Inv.Proxmox.Storage.Disks,
		"bridge":      r.Inv.Proxmox.Bridge,
		"started":     started,
		"vm": map[string]any{
			"id":          node.VMID,
			"name":        node.Name,
			"cores":       node.Cores + addCores,
			"memory_mib":  node.MemoryMiB,
			"os_disk_gib": node.OSDiskGiB + addDiskGiB,
			"address":     fmt.Sprintf("%s/%d", node.IP, r.Inv.Network.CIDR.Bits()),
			"gateway":     r.Inv.Network.Gateway.String(),
			"dns_servers": dns,
			"gpu_mapping": node.GPU.Mapping,
		},
	})
	require.NoError(t, err)
	file, err := r.ws.WriteVars(name, data)
	require.NoError(t, err)
	return file
}

// vmConfig reads the node's VM configuration as PVE holds it.
func (r *rig) vmConfig(t *testing.T) map[string]string {
	t.Helper()
	return r.VMConfig(t, r.Inv.Talos.Nodes[0].VMID)
}

// requireAddresses checks the addresses the provider read from the guest
// agent: the node's address once started, none while stopped.
func (r *rig) requireAddresses(t *testing.T, started bool) {
	t.Helper()
	outputs, err := r.ws.Outputs(context.Background())
	require.NoError(t, err)
	var addrs [][]string
	require.NoError(t, json.Unmarshal(outputs["ipv4_addresses"], &addrs))
	if !started {
		require.Empty(t, addrs, "a stopped VM's agent reports nothing")
		return
	}
	require.Contains(t, slices.Concat(addrs...), r.Inv.Talos.Nodes[0].IP.String(),
		"the agent reports the cloud-init address once the guest has booted")
}

// diskSize returns the size of a drive string in bytes; PVE's disk-size
// format is a number of bytes or one with a K, M, G or T suffix.
func diskSize(t *testing.T, drive string) int64 {
	t.Helper()
	ps, err := pve.ParsePropertyString(drive, "file")
	require.NoError(t, err)
	v, ok := ps.Get("size")
	require.True(t, ok, "drive %q has no size", drive)
	shift := map[byte]int{'K': 10, 'M': 20, 'G': 30, 'T': 40}
	n, s := v, 0
	if sh, ok := shift[v[len(v)-1]]; ok {
		n, s = v[:len(v)-1], sh
	}
	size, err := strconv.ParseInt(n, 10, 64)
	require.NoError(t, err, "drive %q", drive)
	return size << s
}

// TestBpgProviderCycle is issue 12's acceptance for Terraform: the bpg
// provider creates a VM cloned from the Talos template, re-plans with no
// changes, updates its cores and disk size, re-plans with no changes and
// destroys it, stopped and started with the agent on, with no 501 and no
// error answer a real host would not give.
func TestBpgProviderCycle(t *testing.T) {
	for _, started := range []bool{false, true} {
		t.Run(fmt.Sprintf("started=%t", started), func(t *testing.T) {
			r := newRig(t)
			ctx := context.Background()
			node := r.Inv.Talos.Nodes[0]

			out, err := r.ws.Init(ctx)
			require.NoError(t, err)
			require.Contains(t, out, "Installing bpg/proxmox v0.80.0", "the provider comes from the tool cache")

			create := r.vars(t, "create.tfvars.json", started, 0, 0)
			_, err = r.ws.Apply(ctx, create)
			require.NoError(t, err)
			r.requireAddresses(t, started)
			cfg := r.vmConfig(t)
			require.Equal(t, fmt.Sprint(node.Cores), cfg["cores"])
			require.Equal(t, int64(node.OSDiskGiB)<<30, diskSize(t, cfg["scsi0"]))
			require.Equal(t, node.Name, cfg["name"])
			require.Contains(t, cfg["hostpci0"], "mapping="+node.GPU.Mapping)
			require.Contains(t, cfg["hostpci0"], "rombar=1", "rombar stated in the configuration, not bpg's rombar=0")
			require.Contains(t, cfg["ipconfig0"], fmt.Sprintf("ip=%s/%d", node.IP, r.Inv.Network.CIDR.Bits()))
			require.Contains(t, cfg["efidisk0"], "efitype=4m", "the clone keeps the template's EFI disk")
			require.Contains(t, cfg["efidisk0"], r.Inv.Proxmox.Storage.Disks+":vm-", "the EFI disk stays on the inventory's disk storage")

			changes, out, err := r.ws.Plan(ctx, create)
			require.NoError(t, err)
			require.False(t, changes, "a plan right after apply changes nothing:\n%s", out)

			update := r.vars(t, "update.tfvars.json", started, 2, 10)
			_, err = r.ws.Apply(ctx, update)
			require.NoError(t, err)
			r.requireAddresses(t, started)
			cfg = r.vmConfig(t)
			require.Equal(t, fmt.Sprint(node.Cores+2), cfg["cores"])
			require.Equal(t, int64(node.OSDiskGiB+10)<<30, diskSize(t, cfg["scsi0"]))

			changes, out, err = r.ws.Plan(ctx, update)
			require.NoError(t, err)
			require.False(t, changes, "a plan right after the update changes nothing:\n%s", out)

			_, err = r.ws.Destroy(ctx, update)
			require.NoError(t, err)
			log := r.TerraformLog()
			_, err = r.Client.VMConfig(ctx, r.Inv.Proxmox.Node, node.VMID)
			require.ErrorContains(t, err, "does not exist", "the VM is gone")

			// Up to the destroy request the only error answers are the
			// refused move of the EFI disk to its own storage and the
			// agent's while a started guest boots; after it only the ones a
			// destroyed VM gives.
			before := []tfaccept.Expected{tfaccept.EFIDiskMoveToSameStorage(node.VMID)}
			if started {
				before = append(before, tfaccept.AgentWhileBooting(node.VMID))
			}
			destroy := slices.IndexFunc(log, func(req pvesim.Request) bool { return req.Method == http.MethodDelete })
			require.GreaterOrEqual(t, destroy, 0, "terraform destroy sent DELETE")
			require.Empty(t, tfaccept.FormatRequests(tfaccept.Unexpected(log[:destroy+1], before)),
				"before the VM is destroyed, only the error answers a real host gives too")
			require.Empty(t, tfaccept.FormatRequests(tfaccept.Unexpected(log[destroy+1:], []tfaccept.Expected{tfaccept.StatusAfterDestroy(node.VMID)})),
				"after the destroy, only the error answers a real host gives too")
		})
	}
}
