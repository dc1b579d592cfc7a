package tfmodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/lib/inventory"
)

// homelab is the repository's inventory.
var homelab = filepath.Join("..", "..", inventory.DefaultFile)

// proxmoxVM is the module under test.
var proxmoxVM = filepath.Join("..", "..", "terraform", "modules", "proxmox-vm")

// rootWorkspace returns a workspace of testdata/root with the module copied
// beside it, at the path its module block names, trusting caPEM.
func rootWorkspace(t *testing.T, tools tfaccept.Tools, caPEM []byte) *tfaccept.Workspace {
	t.Helper()
	ws := tools.Workspace(t, filepath.Join("testdata", "root"), caPEM)
	require.NoError(t, ws.AddModule("proxmox-vm", proxmoxVM))
	return ws
}

// nodeVM returns the root module's vm variable for the inventory's first
// Talos node with its data disk, GPU mapping and a vTPM, on the
// inventory's node, storage and bridge.
func nodeVM(inv *inventory.Inventory) map[string]any {
	node := inv.Talos.Nodes[0]
	dns := make([]string, len(inv.Network.DNSServers))
	for i, a := range inv.Network.DNSServers {
		dns[i] = a.String()
	}
	return map[string]any{
		"node_name":   inv.Proxmox.Node,
		"vm_id":       node.VMID,
		"name":        node.Name,
		"template_id": inv.Talos.TemplateID,
		"cores":       node.Cores,
		"memory_mib":  node.MemoryMiB,
		"datastore":   inv.Proxmox.Storage.Disks,
		"os_disk_gib": node.OSDiskGiB,
		"data_disk":   map[string]any{"datastore": inv.Proxmox.Storage.Disks, "size_gib": node.DataDiskGiB},
		"bridge":      inv.Proxmox.Bridge,
		"role":        node.Role,
		"os":          "talos",
		"pci_mapping": node.GPU.Mapping,
		"tpm":         true,
		"started":     false,
		"cloud_init": map[string]any{
			"ipv4_address": fmt.Sprintf("%s/%d", node.IP, inv.Network.CIDR.Bits()),
			"gateway":      inv.Network.Gateway.String(),
			"dns_servers":  dns,
		},
	}
}

// writeVars writes the root module's variables file.
func writeVars(t *testing.T, ws *tfaccept.Workspace, name, endpoint, token string, vm map[string]any) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"endpoint": endpoint, "api_token": token, "vm": vm})
	require.NoError(t, err)
	file, err := ws.WriteVars(name, data)
	require.NoError(t, err)
	return file
}

// TestModuleFormatAndValidate runs terraform fmt -check on the module and
// terraform validate on a root module that calls it.
func TestModuleFormatAndValidate(t *testing.T) {
	tools := tfaccept.RequireTools(t, homelab)
	ws := rootWorkspace(t, tools, nil)
	ctx := context.Background()
	for _, dir := range []string{filepath.Join("modules", "proxmox-vm"), "."} {
		out, _, err := ws.Run(ctx, []string{"fmt", "-check", "-diff", dir})
		require.NoError(t, err, "terraform fmt -check %s: %s", dir, out)
	}
	_, err := ws.Init(ctx)
	require.NoError(t, err)
	out, _, err := ws.Run(ctx, []string{"validate"})
	require.NoError(t, err)
	require.Contains(t, out, "The configuration is valid")
}

// TestModuleRefusesBadInput plans the module with one bad input at a time:
// the plan fails naming the variable, before the provider is asked
// anything (the endpoint is a closed port). The first cases, without a
// variable, prove the plan passes otherwise.
func TestModuleRefusesBadInput(t *testing.T) {
	tools := tfaccept.RequireTools(t, homelab)
	inv, err := inventory.Load(homelab)
	require.NoError(t, err)
	ws := rootWorkspace(t, tools, nil)
	ctx := context.Background()
	_, err = ws.Init(ctx)
	require.NoError(t, err)

	cloudInit := func(change map[string]any) map[string]any {
		ci := maps.Clone(nodeVM(inv)["cloud_init"].(map[string]any))
		maps.Copy(ci, change)
		return ci
	}
	tests := []struct {
		name     string
		change   map[string]any
		variable string // "" for a plan that passes
		message  string // part of the validation's error_message
	}{
		{name: "the inventory's node"},
		{name: "a user with SSH keys and a search domain", change: map[string]any{"cloud_init": cloudInit(map[string]any{
			"search_domain": "home.arpa", "user": map[string]any{"name": "admin", "ssh_keys": []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB admin@home"}},
		})}},
		{name: "no cloud-init drive", change: map[string]any{"cloud_init": nil}},
		{name: "a plain VM", change: map[string]any{"bios": "seabios", "machine": "pc", "data_disk": nil, "pci_mapping": nil, "tpm": false, "vlan_id": 20}},
		{name: "vm_id below 100", change: map[string]any{"vm_id": 99}, variable: "vm_id", message: "from 100 to 999999999"},
		{name: "vm_id above the range", change: map[string]any{"vm_id": 1000000000}, variable: "vm_id", message: "from 100 to 999999999"},
		{name: "vm_id not whole", change: map[string]any{"vm_id": 110.5}, variable: "vm_id", message: "whole number"},
		{name: "template_id below 100", change: map[string]any{"template_id": 0}, variable: "template_id", message: "from 100"},
		{name: "name not a DNS name", change: map[string]any{"name": "talos_cp_01"}, variable: "name", message: "DNS name"},
		{name: "no cores", change: map[string]any{"cores": 0}, variable: "cores", message: "from 1 to 512"},
		{name: "too little memory", change: map[string]any{"memory_mib": 8}, variable: "memory_mib", message: "at least 16"},
		{name: "machine unknown", change: map[string]any{"machine": "virt"}, variable: "machine", message: "q35 or pc"},
		{name: "bios unknown", change: map[string]any{"bios": "uefi"}, variable: "bios", message: "ovmf or seabios"},
		{name: "datastore not a storage ID", change: map[string]any{"datastore": "local zfs"}, variable: "datastore", message: "storage ID"},
		{name: "data disk storage not a storage ID", change: map[string]any{"data_disk": map[string]any{"datastore": "-x", "size_gib": 10}}, variable: "data_disk", message: "data_disk.datastore"},
		{name: "data disk of no size", change: map[string]any{"data_disk": map[string]any{"datastore": "local-zfs", "size_gib": 0}}, variable: "data_disk", message: "data_disk.size_gib"},
		{name: "bridge too long", change: map[string]any{"bridge": "vmbr0123456789abcdef"}, variable: "bridge", message: "Linux interface name"},
		{name: "vlan out of range", change: map[string]any{"vlan_id": 4095}, variable: "vlan_id", message: "1 to 4094"},
		{name: "address without prefix", change: map[string]any{"cloud_init": cloudInit(map[string]any{"ipv4_address": "10.10.2.10"})}, variable: "cloud_init", message: "with its prefix length"},
		{name: "address not IPv4", change: map[string]any{"cloud_init": cloudInit(map[string]any{"ipv4_address": "10.10.2.300/24"})}, variable: "cloud_init", message: "with its prefix length"},
		{name: "gateway with prefix", change: map[string]any{"cloud_init": cloudInit(map[string]any{"gateway": "10.10.2.1/24"})}, variable: "cloud_init", message: "without a prefix length"},
		{name: "gateway outside the network", change: map[string]any{"cloud_init": cloudInit(map[string]any{"gateway": "10.10.3.1"})}, variable: "cloud_init", message: "in the network of"},
		{name: "dns server not an address", change: map[string]any{"cloud_init": cloudInit(map[string]any{"dns_servers": []string{"dns.example"}})}, variable: "cloud_init", message: "dns_servers must be IP addresses"},
		{name: "user name upper case", change: map[string]any{"cloud_init": cloudInit(map[string]any{"user": map[string]any{"name": "Admin", "ssh_keys": []string{"ssh-ed25519 AAAAC3Nz a@b"}}})}, variable: "cloud_init", message: "Linux user name"},
		{name: "user without keys", change: map[string]any{"cloud_init": cloudInit(map[string]any{"user": map[string]any{"name": "admin", "ssh_keys": []string{}}})}, variable: "cloud_init", message: "at least one OpenSSH public key"},
		{name: "ssh key not a public key", change: map[string]any{"cloud_init": cloudInit(map[string]any{"user": map[string]any{"name": "admin", "ssh_keys": []string{"-----BEGIN OPENSSH PRIVATE KEY-----"}}})}, variable: "cloud_init", message: "OpenSSH public key"},
		{name: "role tag upper case", change: map[string]any{"role": "ControlPlane"}, variable: "role", message: "Proxmox VE tag"},
		{name: "os tag with a space", change: map[string]any{"os": "talos linux"}, variable: "os", message: "Proxmox VE tag"},
		{name: "extra tag starting with a dot", change: map[string]any{"extra_tags": []string{".gpu"}}, variable: "extra_tags", message: "Proxmox VE tags"},
		{name: "mapping name with a slash", change: map[string]any{"pci_mapping": "nvidia/rtx4000"}, variable: "pci_mapping", message: "mapping ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm := nodeVM(inv)
			maps.Copy(vm, tt.change)
			vars := writeVars(t, ws, "bad.tfvars.json", "https://127.0.0.1:1/", "root@pam!test=00000000-0000-0000-0000-000000000000", vm) // secrets:allow: a dummy token for a closed port, never sent anywhere
			_, _, err := ws.Plan(ctx, vars)
			if tt.variable == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), "Invalid value for variable")
			require.Contains(t, err.Error(), "var."+tt.variable, "the error names the variable")
			require.Contains(t, err.Error(), tt.message)
		})
	}
}
