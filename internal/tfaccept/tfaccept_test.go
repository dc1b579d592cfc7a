package tfaccept_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

// homelab is the repository's inventory: the host, the template and the
// node the test declares, and the provider's version.
var homelab = filepath.Join("..", "..", inventory.DefaultFile)

// rig is a simulated host prepared as proxmox:preflight asks, holding the
// Talos template talos:import builds, and a Terraform workspace with the
// bpg provider from the tool cache.
type rig struct {
	// setup is how many requests building the template took: the
	// Terraform run's requests follow them in the log.
	setup  int
	inv    *inventory.Inventory
	sim    *pvesim.Server
	client *proxmox.Client
	ws     *tfaccept.Workspace
}

func newRig(t *testing.T) *rig {
	t.Helper()
	terraform := testtool.Require(t, "terraform")
	provider, err := testsuite.GoTool(homelab, "terraform-provider-proxmox")
	require.NoError(t, err)
	testtool.RequireGoTool(t, provider)
	cache, err := toolchain.CacheDir()
	require.NoError(t, err)

	inv, err := inventory.Load(homelab)
	require.NoError(t, err)
	sim, err := pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, true)), pvesim.WithGuestBootDelay(guestBoot))
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	factory := factorysim.New(factorysim.WithPayload(1 << 20))
	t.Cleanup(factory.Close)
	id, secret := sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint()},
		proxmox.WithPollInterval(5*time.Millisecond))
	require.NoError(t, err)
	fc, err := talosfactory.New(factory.URL())
	require.NoError(t, err)
	lock, err := images.LoadLockFile(filepath.Join(t.TempDir(), images.DefaultLockFile))
	require.NoError(t, err)
	_, err = images.ImportTalos(context.Background(), inv, client, fc, lock, images.TalosImportOptions{})
	require.NoError(t, err, "talos:import builds the template the VM is cloned from")

	ws, err := tfaccept.NewWorkspace(terraform, filepath.Join("testdata", "vm"), t.TempDir(), cache,
		[]toolchain.GoTool{provider}, sim.CACertPEM())
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the simulator's request log:\n%s", tfaccept.FormatRequests(sim.Requests()))
		}
	})
	return &rig{setup: len(sim.Requests()), inv: inv, sim: sim, client: client, ws: ws}
}

// vars writes the variables of testdata/vm from the inventory's first Talos
// node, with cores and OS disk size changed by the deltas.
func (r *rig) vars(t *testing.T, name string, started bool, addCores, addDiskGiB int) string {
	t.Helper()
	node := r.inv.Talos.Nodes[0]
	id, secret := r.sim.Token()
	dns := make([]string, len(r.inv.Network.DNSServers))
	for i, a := range r.inv.Network.DNSServers {
		dns[i] = a.String()
	}
	data, err := json.Marshal(map[string]any{
		"endpoint":    strings.TrimSuffix(r.sim.URL(), "/api2/json"),
		"api_token":   id + "=" + secret,
		"node":        r.inv.Proxmox.Node,
		"template_id": r.inv.Talos.TemplateID,
		"datastore":   r.inv.Proxmox.Storage.Disks,
		"bridge":      r.inv.Proxmox.Bridge,
		"started":     started,
		"vm": map[string]any{
			"id":          node.VMID,
			"name":        node.Name,
			"cores":       node.Cores + addCores,
			"memory_mib":  node.MemoryMiB,
			"os_disk_gib": node.OSDiskGiB + addDiskGiB,
			"address":     fmt.Sprintf("%s/%d", node.IP, r.inv.Network.CIDR.Bits()),
			"gateway":     r.inv.Network.Gateway.String(),
			"dns_servers": dns,
			"gpu_mapping": node.GPU.Mapping,
		},
	})
	require.NoError(t, err)
	file, err := r.ws.WriteVars(name, data)
	require.NoError(t, err)
	return file
}

// vmConfig reads the VM's configuration as PVE holds it.
func (r *rig) vmConfig(t *testing.T) map[string]string {
	t.Helper()
	cfg, err := r.client.VMConfig(context.Background(), r.inv.Proxmox.Node, r.inv.Talos.Nodes[0].VMID)
	require.NoError(t, err)
	return cfg.Values
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
	require.Contains(t, slices.Concat(addrs...), r.inv.Talos.Nodes[0].IP.String(),
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

// guestBoot is how long the simulated guest takes to boot after a start or
// a reboot: until then its guest agent does not answer, as on a host.
const guestBoot = 2 * time.Second

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
			node := r.inv.Talos.Nodes[0]

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
			require.Contains(t, cfg["ipconfig0"], fmt.Sprintf("ip=%s/%d", node.IP, r.inv.Network.CIDR.Bits()))
			require.Contains(t, cfg["efidisk0"], "efitype=4m", "the clone keeps the template's EFI disk")
			require.Contains(t, cfg["efidisk0"], r.inv.Proxmox.Storage.Disks+":vm-", "the EFI disk stays on the inventory's disk storage")

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
			log := r.sim.Requests()[r.setup:] // Terraform's requests only
			_, err = r.client.VMConfig(ctx, r.inv.Proxmox.Node, node.VMID)
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
