package tfmodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestModuleAppliesAgainstTheSimulator clones the Talos template with the
// module, as the Talos stack will: the inventory's first node with its data
// disk, its GPU mapping and a vTPM, stopped. The simulator then holds the
// configuration the inventory asks for, a second plan changes nothing,
// destroy leaves no VM, and the request log has no 501 and no error answer
// a real host would not give.
func TestModuleAppliesAgainstTheSimulator(t *testing.T) {
	tools := tfaccept.RequireTools(t, homelab)
	host := tfaccept.NewTalosHost(t, homelab)
	ws := rootWorkspace(t, tools, host.Sim.CACertPEM())
	ctx := context.Background()
	inv := host.Inv
	node := inv.Talos.Nodes[0]

	_, err := ws.Init(ctx)
	require.NoError(t, err)
	vars := writeVars(t, ws, "node.tfvars.json", host.Endpoint(), host.APIToken(), nodeVM(inv))
	_, err = ws.Apply(ctx, vars)
	require.NoError(t, err)

	cfg := host.VMConfig(t, node.VMID)
	storage := inv.Proxmox.Storage.Disks
	tests := []struct {
		key      string
		contains []string
	}{
		{key: "name", contains: []string{node.Name}},
		{key: "cores", contains: []string{fmt.Sprint(node.Cores)}},
		{key: "memory", contains: []string{fmt.Sprint(node.MemoryMiB)}},
		{key: "cpu", contains: []string{"host"}},
		{key: "machine", contains: []string{"q35"}},
		{key: "bios", contains: []string{"ovmf"}},
		{key: "scsi0", contains: []string{storage + ":vm-", fmt.Sprintf("size=%dG", node.OSDiskGiB)}},
		{key: "scsi1", contains: []string{storage + ":vm-", fmt.Sprintf("size=%dG", node.DataDiskGiB)}},
		{key: "hostpci0", contains: []string{"mapping=" + node.GPU.Mapping, "pcie=1", "rombar=1"}},
		{key: "tpmstate0", contains: []string{storage + ":vm-", "version=v2.0"}},
		{key: "efidisk0", contains: []string{storage + ":vm-", "efitype=4m"}},
		{key: "ipconfig0", contains: []string{fmt.Sprintf("ip=%s/%d", node.IP, inv.Network.CIDR.Bits()), "gw=" + inv.Network.Gateway.String()}},
		{key: "net0", contains: []string{"bridge=" + inv.Proxmox.Bridge, "virtio="}},
		{key: "agent", contains: []string{"1"}},
		{key: "tags", contains: []string{"infra-managed", string(node.Role), "talos"}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			require.Contains(t, cfg, tt.key)
			for _, want := range tt.contains {
				require.Contains(t, cfg[tt.key], want)
			}
		})
	}

	outputs, err := ws.Outputs(ctx)
	require.NoError(t, err)
	require.JSONEq(t, fmt.Sprint(node.VMID), string(outputs["vm_id"]))
	require.JSONEq(t, fmt.Sprintf("%q", node.Name), string(outputs["name"]))
	require.JSONEq(t, fmt.Sprintf("%q", node.IP), string(outputs["ipv4_address"]))
	var mac string
	require.NoError(t, json.Unmarshal(outputs["mac_address"], &mac))
	require.Contains(t, cfg["net0"], "virtio="+mac, "the MAC output is the NIC's")

	changes, out, err := ws.Plan(ctx, vars)
	require.NoError(t, err)
	require.False(t, changes, "a plan right after apply changes nothing:\n%s", out)

	_, err = ws.Destroy(ctx, vars)
	require.NoError(t, err)
	log := host.TerraformLog() // before the test's own request below
	_, err = host.Client.VMConfig(ctx, inv.Proxmox.Node, node.VMID)
	require.ErrorContains(t, err, "does not exist", "the VM is gone")

	destroy := slices.IndexFunc(log, func(req pvesim.Request) bool { return req.Method == http.MethodDelete })
	require.GreaterOrEqual(t, destroy, 0, "terraform destroy sent DELETE")
	require.Empty(t, tfaccept.FormatRequests(tfaccept.Unexpected(log[:destroy+1], []tfaccept.Expected{tfaccept.EFIDiskMoveToSameStorage(node.VMID)})),
		"before the VM is destroyed, only the error answers a real host gives too")
	require.Empty(t, tfaccept.FormatRequests(tfaccept.Unexpected(log[destroy+1:], []tfaccept.Expected{tfaccept.StatusAfterDestroy(node.VMID)})),
		"after the destroy, only the error answers a real host gives too")
}
