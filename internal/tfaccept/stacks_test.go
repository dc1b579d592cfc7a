package tfaccept_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
)

// repo is the repository's top directory: the stacks are copied from it.
var repo = filepath.Join("..", "..")

// stacks are the stacks' directory names under terraform/.
var stacks = []string{"talos", "traditional-vms"}

// editInventory writes to dir/name a copy of the inventory file src with
// edit applied to its decoded form and returns the copy's absolute path.
func editInventory(t *testing.T, src, dir, name string, edit func(inv map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	var inv map[string]any
	require.NoError(t, yaml.Unmarshal(data, &inv))
	edit(inv)
	data, err = yaml.Marshal(inv)
	require.NoError(t, err)
	path, err := filepath.Abs(filepath.Join(dir, name))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// field returns the map at a path of keys (string) and list indexes (int)
// in a decoded inventory.
func field(inv map[string]any, path ...any) map[string]any {
	var cur any = inv
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

// TestNewStackWorkspaceLayout checks that a stack's workspace holds the
// inventory, the modules and the stack at the paths the stack reads them
// from.
func TestNewStackWorkspaceLayout(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	for path, text := range map[string]string{
		inventory.DefaultFile:                "schema: 1\n",
		"terraform/modules/proxmox-vm/a.tf":  "# module\n",
		"terraform/modules/other/b.tf":       "# other\n",
		"terraform/talos/main.tf":            "# stack\n",
		"terraform/talos/.terraform/ignored": "not copied",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, path)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, path), []byte(text), 0o644))
	}
	ws, err := tfaccept.NewStackWorkspace("terraform", src, "talos", dir, t.TempDir(), nil, []byte("ca"))
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "terraform", "talos"), ws.Dir)
	for path, text := range map[string]string{
		filepath.Join(ws.Dir, "..", "..", inventory.DefaultFile):     "schema: 1\n",
		filepath.Join(ws.Dir, "..", "modules", "proxmox-vm", "a.tf"): "# module\n",
		filepath.Join(ws.Dir, "..", "modules", "other", "b.tf"):      "# other\n",
		filepath.Join(ws.Dir, "main.tf"):                             "# stack\n",
		filepath.Join(ws.Dir, ".ca.pem"):                             "ca",
	} {
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, text, string(got), path)
	}
	require.NoDirExists(t, filepath.Join(ws.Dir, ".terraform"), "only *.tf files are copied")

	_, err = tfaccept.NewStackWorkspace("terraform", src, "missing", t.TempDir(), t.TempDir(), nil, nil)
	require.ErrorContains(t, err, "no *.tf files in "+filepath.Join(src, "terraform", "missing"))
}

// TestStacksFormatAndValidate runs terraform fmt -check -recursive on
// terraform/ and terraform validate on each stack.
func TestStacksFormatAndValidate(t *testing.T) {
	tools := tfaccept.RequireTools(t, homelab)
	ctx := context.Background()
	top := &tfaccept.Workspace{Terraform: tools.Terraform, Dir: filepath.Join(repo, "terraform"), Env: os.Environ()}
	out, _, err := top.Run(ctx, []string{"fmt", "-check", "-recursive", "-diff", "."})
	require.NoError(t, err, "terraform fmt -check -recursive terraform/: %s", out)
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			ws := tools.StackWorkspace(t, repo, stack, nil)
			_, err := ws.Init(ctx)
			require.NoError(t, err)
			out, _, err := ws.Run(ctx, []string{"validate"})
			require.NoError(t, err)
			require.Contains(t, out, "The configuration is valid")
		})
	}
}

// TestStacksRefuseBadInventory plans each stack with a copy of the
// inventory holding one problem: the plan fails naming the homelab.yaml
// field, before the provider is asked anything (its endpoint is a closed
// port). The cases without a field prove the plan passes otherwise.
func TestStacksRefuseBadInventory(t *testing.T) {
	ctx := context.Background()
	ws := map[string]*tfaccept.Workspace{}
	for _, stack := range stacks {
		ws[stack] = offlineStack(t, stack)
	}
	node0 := func(inv map[string]any) map[string]any { return field(inv, "talos", "nodes", 0) }
	vm := func(i int) func(inv map[string]any) map[string]any {
		return func(inv map[string]any) map[string]any { return field(inv, "vms", i) }
	}
	tests := []struct {
		name    string
		stack   string
		edit    func(inv map[string]any)
		problem string // "" for a plan that passes
	}{
		{name: "the inventory", stack: "talos", edit: func(map[string]any) {}},
		{name: "the inventory", stack: "traditional-vms", edit: func(map[string]any) {}},
		{name: "a disabled VM with an unknown image", stack: "traditional-vms",
			edit: func(inv map[string]any) { vm(2)(inv)["image"] = "beos" }},
		{name: "node address outside the network", stack: "talos",
			edit:    func(inv map[string]any) { node0(inv)["ip"] = "10.10.3.10" },
			problem: `talos.nodes[0].ip "10.10.3.10" is not an address in network.cidr 10.10.2.0/24`},
		{name: "node address not IPv4", stack: "talos",
			edit:    func(inv map[string]any) { node0(inv)["ip"] = "fd00::10" },
			problem: `talos.nodes[0].ip "fd00::10" is not an address in network.cidr`},
		{name: "node without role", stack: "talos",
			edit:    func(inv map[string]any) { delete(node0(inv), "role") },
			problem: `talos.nodes[0].role is "": it must be controlplane or worker`},
		{name: "no control plane", stack: "talos",
			edit:    func(inv map[string]any) { node0(inv)["role"] = "worker" },
			problem: "talos.nodes has no node with role controlplane"},
		{name: "no nodes", stack: "talos",
			edit:    func(inv map[string]any) { field(inv, "talos")["nodes"] = []any{} },
			problem: "talos.nodes is empty"},
		{name: "node vm_id of a VM", stack: "talos",
			edit:    func(inv map[string]any) { vm(0)(inv)["vm_id"] = 110 },
			problem: "talos.nodes[0].vm_id 110 is also vms[0].vm_id"},
		{name: "node vm_id of the template", stack: "talos",
			edit:    func(inv map[string]any) { node0(inv)["vm_id"] = 9000 },
			problem: "talos.nodes[0].vm_id 9000 is also talos.template_id"},
		{name: "node without cores", stack: "talos",
			edit:    func(inv map[string]any) { delete(node0(inv), "cores") },
			problem: "talos.nodes[0].cores is missing"},
		{name: "GPU without mapping", stack: "talos",
			edit:    func(inv map[string]any) { delete(field(inv, "talos", "nodes", 0, "gpu"), "mapping") },
			problem: "talos.nodes[0].gpu.mapping is missing while gpu.enabled is true"},
		{name: "no template", stack: "talos",
			edit:    func(inv map[string]any) { delete(field(inv, "talos"), "template_id") },
			problem: "talos.template_id is missing"},
		{name: "network not a CIDR", stack: "talos",
			edit:    func(inv map[string]any) { field(inv, "network")["cidr"] = "10.10.2.0" },
			problem: `network.cidr "10.10.2.0" must be an IPv4 network`},
		{name: "no bridge", stack: "talos",
			edit:    func(inv map[string]any) { delete(field(inv, "proxmox"), "bridge") },
			problem: "proxmox.bridge is missing"},
		{name: "unknown image", stack: "traditional-vms",
			edit:    func(inv map[string]any) { vm(1)(inv)["image"] = "debain" },
			problem: `vms[1].image "debain" is not a key of images`},
		{name: "image without template", stack: "traditional-vms",
			edit:    func(inv map[string]any) { delete(field(inv, "images", "ubuntu"), "template_id") },
			problem: "images.ubuntu.template_id is missing: vms[0] is cloned from it"},
		{name: "VM address outside the network", stack: "traditional-vms",
			edit:    func(inv map[string]any) { vm(0)(inv)["ip"] = "192.168.1.51" },
			problem: `vms[0].ip "192.168.1.51" is not an address in network.cidr 10.10.2.0/24`},
		{name: "VM address of another VM", stack: "traditional-vms",
			edit:    func(inv map[string]any) { vm(1)(inv)["ip"] = "10.10.2.51" },
			problem: "vms[1].ip 10.10.2.51 is also vms[0].ip"},
		{name: "VM address of a disabled VM", stack: "traditional-vms",
			edit:    func(inv map[string]any) { vm(1)(inv)["ip"] = "10.10.2.55" },
			problem: "vms[1].ip 10.10.2.55 is also vms[4].ip"},
		{name: "node address of the Proxmox host", stack: "talos",
			edit:    func(inv map[string]any) { node0(inv)["ip"] = "10.10.2.2" },
			problem: "talos.nodes[0].ip 10.10.2.2 is also hosts[0].ip"},
		{name: "duplicate vm_id", stack: "traditional-vms",
			edit:    func(inv map[string]any) { vm(1)(inv)["vm_id"] = 151 },
			problem: "vms[1].vm_id 151 is also vms[0].vm_id"},
		{name: "VM vm_id of an image template", stack: "traditional-vms",
			edit:    func(inv map[string]any) { vm(0)(inv)["vm_id"] = 9112 },
			problem: "vms[0].vm_id 9112 is also images.debian.template_id"},
		{name: "VM without disk size", stack: "traditional-vms",
			edit:    func(inv map[string]any) { delete(vm(0)(inv), "disk_gib") },
			problem: "vms[0].disk_gib is missing"},
		{name: "VM without name", stack: "traditional-vms",
			edit:    func(inv map[string]any) { delete(vm(0)(inv), "name") },
			problem: "vms[0].name is missing"},
		{name: "duplicate VM name", stack: "traditional-vms",
			edit:    func(inv map[string]any) { vm(1)(inv)["name"] = "ubuntu-vm" },
			problem: `vms[1].name "ubuntu-vm" is another enabled VM's name too`},
		{name: "user without keys", stack: "traditional-vms",
			edit:    func(inv map[string]any) { field(inv, "user")["ssh_public_keys"] = []any{} },
			problem: "user.ssh_public_keys is empty"},
		{name: "user name upper case", stack: "traditional-vms",
			edit:    func(inv map[string]any) { field(inv, "user")["name"] = "WDiaz" },
			problem: `user.name "WDiaz" must be a Linux user name`},
		{name: "no disk storage", stack: "traditional-vms",
			edit:    func(inv map[string]any) { delete(field(inv, "proxmox", "storage"), "disks") },
			problem: "proxmox.storage.disks is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.stack+"/"+tt.name, func(t *testing.T) {
			w := ws[tt.stack]
			bad := editInventory(t, homelab, t.TempDir(), "homelab.yaml", tt.edit)
			out, _, err := w.Run(ctx, []string{"plan", "-input=false", "-var", "inventory_file=" + bad})
			if tt.problem == "" {
				require.NoError(t, err)
				require.Contains(t, out, "to add")
				return
			}
			require.Error(t, err)
			msg := strings.Join(strings.Fields(err.Error()), " ") // terraform wraps long messages
			require.Contains(t, msg, "Resource precondition failed")
			require.Contains(t, msg, "cannot be applied by the "+tt.stack+" stack")
			require.Contains(t, msg, tt.problem, "the error names the homelab.yaml field")
			require.NotContains(t, msg, "127.0.0.1:1", "the provider is asked nothing")
		})
	}
}

// TestVMsStackPlansVMsOfDifferentShapes plans the traditional-vms stack
// with two enabled VMs whose entries differ in shape, as talos.nodes
// entries do (one with a block the other lacks): both VMs are planned. A
// for_each written as a conditional with {} failed here with "Inconsistent
// conditional result types" (commit 3da1c89 fixed the talos stack). The
// provider is asked nothing (its endpoint is a closed port).
func TestVMsStackPlansVMsOfDifferentShapes(t *testing.T) {
	ws := offlineStack(t, "traditional-vms")
	vm0 := func(inv map[string]any) map[string]any { return field(inv, "vms", 0) }
	tests := []struct {
		name string
		edit func(inv map[string]any)
	}{
		{name: "one VM with a block the other lacks", edit: func(inv map[string]any) {
			vm0(inv)["gpu"] = map[string]any{"enabled": false}
		}},
		{name: "one VM with a list the other lacks", edit: func(inv map[string]any) {
			vm0(inv)["tags"] = []any{"web", "ubuntu"}
		}},
		{name: "one VM with a value the other lacks", edit: func(inv map[string]any) {
			vm0(inv)["description"] = "the web server"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := editInventory(t, homelab, t.TempDir(), "homelab.yaml", tt.edit)
			var plan resourceChanges
			require.NoError(t, json.Unmarshal(showPlan(t, ws, file, "shapes.tfplan"), &plan))
			planned := map[string]bool{}
			for _, rc := range plan.ResourceChanges {
				planned[rc.Address] = true
			}
			for _, name := range []string{"ubuntu-vm", "debian-vm"} {
				require.True(t, planned[`module.vm["`+name+`"].proxmox_virtual_environment_vm.this`], "VM %s is planned", name)
			}
		})
	}
}

// TestTalosStackPlansTheInventorysHardware plans the talos stack with
// copies of the inventory and reads the planned VM (terraform show -json):
// a vTPM (tpmstate0, v2.0) only with talos.disk_encryption, the GPU
// mapping only with gpu.enabled, the data disk only with data_disk_gib.
// The provider is asked nothing (its endpoint is a closed port).
func TestTalosStackPlansTheInventorysHardware(t *testing.T) {
	ws := offlineStack(t, "talos")
	node0 := func(inv map[string]any) map[string]any { return field(inv, "talos", "nodes", 0) }
	tests := []struct {
		name                  string
		edit                  func(inv map[string]any)
		tpm, hostpci, dataGiB int // blocks planned; the data disk's size, 0 for none
	}{
		{name: "the inventory", edit: func(map[string]any) {}, hostpci: 1, dataGiB: 500},
		{name: "disk encryption", edit: func(inv map[string]any) { field(inv, "talos")["disk_encryption"] = true }, tpm: 1, hostpci: 1, dataGiB: 500},
		{name: "no GPU", edit: func(inv map[string]any) { node0(inv)["gpu"] = map[string]any{"enabled": false} }, dataGiB: 500},
		{name: "no data disk", edit: func(inv map[string]any) { delete(node0(inv), "data_disk_gib") }, hostpci: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := editInventory(t, homelab, t.TempDir(), "homelab.yaml", tt.edit)
			var plan resourceChanges
			require.NoError(t, json.Unmarshal(showPlan(t, ws, file, "hw.tfplan"), &plan))
			i := slices.IndexFunc(plan.ResourceChanges, func(rc resourceChange) bool {
				return rc.Address == `module.node["talos-cp-01"].proxmox_virtual_environment_vm.this`
			})
			require.GreaterOrEqual(t, i, 0, "the node's VM is planned")
			vm := plan.ResourceChanges[i].Change.After
			tpm, _ := vm["tpm_state"].([]any)
			require.Len(t, tpm, tt.tpm, "tpm_state")
			if tt.tpm > 0 {
				require.Equal(t, "v2.0", tpm[0].(map[string]any)["version"])
			}
			pci, _ := vm["hostpci"].([]any)
			require.Len(t, pci, tt.hostpci, "hostpci")
			if tt.hostpci > 0 {
				require.Equal(t, "rtx4000", pci[0].(map[string]any)["mapping"])
				require.Equal(t, true, pci[0].(map[string]any)["rombar"])
			}
			var data []any
			for _, d := range vm["disk"].([]any) {
				if d.(map[string]any)["interface"] == "scsi1" {
					data = append(data, d)
				}
			}
			if tt.dataGiB == 0 {
				require.Empty(t, data, "no data disk")
				return
			}
			require.Len(t, data, 1)
			require.Equal(t, "local-zfs", data[0].(map[string]any)["datastore_id"])
			require.InDelta(t, float64(tt.dataGiB), data[0].(map[string]any)["size"], 0)
		})
	}
}

// requireConfig checks that each key of cfg holds every string of want.
func requireConfig(t *testing.T, cfg map[string]string, want map[string][]string) {
	t.Helper()
	for key, parts := range want {
		require.Contains(t, cfg, key)
		for _, p := range parts {
			require.Contains(t, cfg[key], p, "%s", key)
		}
	}
}

// showPlan runs terraform plan -out with the inventory file (exit status
// 2: a change) and returns terraform show -json of the plan.
func showPlan(t *testing.T, ws *tfaccept.Workspace, inventoryFile, planFile string) []byte {
	t.Helper()
	ctx := context.Background()
	_, _, err := ws.Run(ctx, []string{"plan", "-input=false", "-detailed-exitcode", "-out=" + planFile, "-var", "inventory_file=" + inventoryFile}, 2)
	require.NoError(t, err)
	out, _, err := ws.Run(ctx, []string{"show", "-json", planFile})
	require.NoError(t, err)
	return []byte(out)
}

// resourceChanges is the part of terraform show -json of a plan the tests
// read: each resource's address, actions and planned values.
type resourceChanges struct {
	ResourceChanges []resourceChange `json:"resource_changes"`
}

// resourceChange is one resource's address, actions and planned values.
type resourceChange struct {
	Address string `json:"address"`
	Change  struct {
		Actions []string       `json:"actions"`
		After   map[string]any `json:"after"`
	} `json:"change"`
}

// planChanges runs terraform plan -out with the inventory file and returns
// the addresses and actions of the resources terraform show -json finds
// changing in the plan.
func planChanges(t *testing.T, ws *tfaccept.Workspace, inventoryFile, planFile string) map[string][]string {
	t.Helper()
	var plan resourceChanges
	require.NoError(t, json.Unmarshal(showPlan(t, ws, inventoryFile, planFile), &plan))
	changes := map[string][]string{}
	for _, rc := range plan.ResourceChanges {
		if !slices.Equal(rc.Change.Actions, []string{"no-op"}) {
			changes[rc.Address] = rc.Change.Actions
		}
	}
	return changes
}

// vmOutput is a stack output's value for one VM.
type vmOutput struct {
	ID  int    `json:"id"`
	IP  string `json:"ip"`
	MAC string `json:"mac"`
}

// stackOutput reads the stack's output name, a map from VM name to vmOutput.
func stackOutput(t *testing.T, ws *tfaccept.Workspace, name string) map[string]vmOutput {
	t.Helper()
	outputs, err := ws.Outputs(context.Background())
	require.NoError(t, err)
	var vms map[string]vmOutput
	require.NoError(t, json.Unmarshal(outputs[name], &vms))
	return vms
}

// clonedVM is what every VM a stack makes holds: its name, cores, memory
// and OS disk size, CPU host, q35, OVMF with the EFI disk on the disk
// storage, its cloud-init address and the network's gateway, DNS servers
// and search domains, a NIC on the bridge, the agent and the tags.
func clonedVM(inv *inventory.Inventory, name string, cores, memoryMiB, diskGiB int, ip netip.Addr, tags ...string) map[string][]string {
	net, storage := inv.Network, inv.Proxmox.Storage.Disks
	dns := make([]string, len(net.DNSServers))
	for i, a := range net.DNSServers {
		dns[i] = a.String()
	}
	return map[string][]string{
		"name":         {name},
		"cores":        {fmt.Sprint(cores)},
		"memory":       {fmt.Sprint(memoryMiB)},
		"cpu":          {"host"},
		"machine":      {"q35"},
		"bios":         {"ovmf"},
		"efidisk0":     {storage + ":vm-", "efitype=4m"},
		"scsi0":        {storage + ":vm-", fmt.Sprintf("size=%dG", diskGiB)},
		"ipconfig0":    {fmt.Sprintf("ip=%s/%d", ip, net.CIDR.Bits()), "gw=" + net.Gateway.String()},
		"nameserver":   {strings.Join(dns, " ")},
		"searchdomain": {strings.Join(net.SearchDomains, " ")},
		"net0":         {"bridge=" + inv.Proxmox.Bridge, "virtio="},
		"agent":        {"1"},
		"tags":         append([]string{inventory.ManagedTag}, tags...),
	}
}

// offlineStack returns the stack's workspace, initialised, with its
// provider offline.
func offlineStack(t *testing.T, stack string) *tfaccept.Workspace {
	t.Helper()
	tools := tfaccept.RequireTools(t, homelab)
	ws := tools.StackWorkspace(t, repo, stack, nil)
	offline(ws)
	_, err := ws.Init(context.Background())
	require.NoError(t, err)
	return ws
}

// offline points the workspace's provider at a closed port with a dummy
// token: a plan that asks the provider anything fails.
func offline(ws *tfaccept.Workspace) {
	ws.Env = append(ws.Env, "PROXMOX_VE_ENDPOINT=https://127.0.0.1:1/",
		"PROXMOX_VE_API_TOKEN=root@pam!test=00000000-0000-0000-0000-000000000000") // secrets:allow: a dummy token for a closed port, never sent anywhere
}

// requireNoChanges runs terraform plan -detailed-exitcode with the
// inventory file: exit status 0, nothing to change.
func requireNoChanges(t *testing.T, ws *tfaccept.Workspace, inventoryFile string) {
	t.Helper()
	out, code, err := ws.Run(context.Background(), []string{"plan", "-input=false", "-detailed-exitcode", "-var", "inventory_file=" + inventoryFile})
	require.NoError(t, err)
	require.Equal(t, 0, code, "the plan changes nothing:\n%s", out)
}

// TestStacksApplyAgainstTheSimulator is issue 13's acceptance for the
// stacks: against a simulator shaped from homelab.yaml, holding the Talos
// template and the enabled VMs' image templates, the talos and vms stacks
// apply; the VMs the simulator holds are what the inventory says; a plan
// changes nothing; a copy of the inventory with more cores for the node
// plans exactly one in-place update, which applies; destroy leaves only the
// templates; and the request log has no 501 and no error answer a real
// host would not give.
func TestStacksApplyAgainstTheSimulator(t *testing.T) {
	tools := tfaccept.RequireTools(t, homelab)
	host := tfaccept.NewTalosHost(t, homelab)
	images := tfaccept.ImageTemplates(t, host.Client, host.Inv)
	ctx := context.Background()
	inv := host.Inv
	node := inv.Talos.Nodes[0]
	storage := inv.Proxmox.Storage.Disks

	talos := tools.StackWorkspace(t, repo, "talos", host.Sim.CACertPEM())
	vms := tools.StackWorkspace(t, repo, "traditional-vms", host.Sim.CACertPEM())
	inventoryFile := filepath.Join("..", "..", inventory.DefaultFile) // the stacks' default, copied beside them
	for _, ws := range []*tfaccept.Workspace{talos, vms} {
		ws.Env = append(ws.Env, host.ProviderEnv()...)
		_, err := ws.Init(ctx)
		require.NoError(t, err)
		_, _, err = ws.Run(ctx, []string{"apply", "-input=false", "-auto-approve"})
		require.NoError(t, err)
	}

	cfg := host.VMConfig(t, node.VMID)
	want := clonedVM(inv, node.Name, node.Cores, node.MemoryMiB, node.OSDiskGiB, node.IP, node.Role, "talos")
	want["scsi1"] = []string{storage + ":vm-", fmt.Sprintf("size=%dG", node.DataDiskGiB)}
	want["hostpci0"] = []string{"mapping=" + node.GPU.Mapping, "pcie=1", "rombar=1"}
	requireConfig(t, cfg, want)
	require.NotContains(t, cfg, "ciuser", "a Talos node has no cloud-init user")
	require.NotContains(t, cfg, "tpmstate0", "no vTPM while talos.disk_encryption is off")

	nodes := stackOutput(t, talos, "nodes")
	require.Len(t, nodes, len(inv.Talos.Nodes))
	require.Equal(t, node.VMID, nodes[node.Name].ID)
	require.Equal(t, node.IP.String(), nodes[node.Name].IP)
	require.Contains(t, cfg["net0"], "virtio="+nodes[node.Name].MAC, "the mac output is the NIC's")

	vmOut := stackOutput(t, vms, "vms")
	present, err := host.Client.VMs(ctx)
	require.NoError(t, err)
	var enabled []int
	for _, v := range inv.VMs {
		if !v.Enabled {
			require.False(t, slices.ContainsFunc(present, func(p proxmox.VMInfo) bool { return p.VMID == v.VMID }),
				"disabled VM %s is not created", v.Name)
			continue
		}
		enabled = append(enabled, v.VMID)
		cfg := host.VMConfig(t, v.VMID)
		want := clonedVM(inv, v.Name, v.Cores, v.MemoryMiB, v.DiskGiB, v.IP, v.Image)
		want["ciuser"] = []string{inv.User.Name}
		want["sshkeys"] = []string{strings.Fields(inv.User.SSHPublicKeys[0])[1][:20]}
		requireConfig(t, cfg, want)
		require.Equal(t, v.VMID, vmOut[v.Name].ID)
		require.Equal(t, v.IP.String(), vmOut[v.Name].IP)
		require.Contains(t, cfg["net0"], "virtio="+vmOut[v.Name].MAC)
	}
	require.Len(t, vmOut, len(enabled))

	requireNoChanges(t, talos, inventoryFile)
	requireNoChanges(t, vms, inventoryFile)

	more := editInventory(t, homelab, t.TempDir(), "homelab.yaml", func(inv map[string]any) {
		field(inv, "talos", "nodes", 0)["cores"] = node.Cores + 2
	})
	changes := planChanges(t, talos, more, "cores.tfplan")
	require.Equal(t, map[string][]string{
		fmt.Sprintf("module.node[%q].proxmox_virtual_environment_vm.this", node.Name): {"update"},
	}, changes, "more cores is one in-place update")
	_, _, err = talos.Run(ctx, []string{"apply", "-input=false", "cores.tfplan"})
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(node.Cores+2), host.VMConfig(t, node.VMID)["cores"])
	requireNoChanges(t, talos, more)

	_, _, err = talos.Run(ctx, []string{"destroy", "-input=false", "-auto-approve", "-var", "inventory_file=" + more})
	require.NoError(t, err)
	_, _, err = vms.Run(ctx, []string{"destroy", "-input=false", "-auto-approve"})
	require.NoError(t, err)
	log := host.TerraformLog() // before the test's own request below
	left, err := host.Client.VMs(ctx)
	require.NoError(t, err)
	var ids []int
	for _, v := range left {
		require.True(t, v.Template, "VM %d (%s) is left after destroy", v.VMID, v.Name)
		ids = append(ids, v.VMID)
	}
	require.ElementsMatch(t, append(images, inv.Talos.TemplateID), ids, "only the templates are left")

	var expected []tfaccept.Expected
	for _, id := range append(enabled, node.VMID) {
		expected = append(expected, tfaccept.EFIDiskMoveToSameStorage(id), tfaccept.AgentWhileBooting(id), tfaccept.StatusAfterDestroy(id))
	}
	require.Empty(t, tfaccept.FormatRequests(tfaccept.Unexpected(log, expected)), "only the error answers a real host gives too")
}
