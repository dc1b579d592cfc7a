package tfaccept

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

// GuestBoot is how long a simulated guest takes to boot after a start or a
// reboot: until then its guest agent does not answer, as on a host.
const GuestBoot = 2 * time.Second

// Tools are the real tools a Terraform test runs: the terraform binary and
// the bpg/proxmox provider built into the tool cache.
type Tools struct {
	// Terraform is the terraform binary's path.
	Terraform string
	// Provider is the bpg/proxmox provider at the inventory's version.
	Provider toolchain.GoTool
	// Cache is the tool cache the provider is built in.
	Cache string
}

// RequireTools returns the tools, skipping the test when one is missing
// outside CI and failing it in CI (internal/testtool); homelab is the
// inventory file that pins the provider's version.
func RequireTools(t testing.TB, homelab string) Tools {
	t.Helper()
	terraform := testtool.Require(t, "terraform")
	provider, err := testsuite.GoTool(homelab, "terraform-provider-proxmox")
	require.NoError(t, err)
	testtool.RequireGoTool(t, provider)
	cache, err := toolchain.CacheDir()
	require.NoError(t, err)
	return Tools{Terraform: terraform, Provider: provider, Cache: cache}
}

// Workspace returns a workspace for the root module in src (see
// NewWorkspace) in a temporary directory, trusting caPEM.
func (tt Tools) Workspace(t testing.TB, src string, caPEM []byte) *Workspace {
	t.Helper()
	ws, err := NewWorkspace(tt.Terraform, src, t.TempDir(), tt.Cache, []toolchain.GoTool{tt.Provider}, caPEM)
	require.NoError(t, err)
	return ws
}

// StackWorkspace returns a workspace for the stack terraform/<stack> of the
// repository at repo (see NewStackWorkspace) in a temporary directory,
// trusting caPEM.
func (tt Tools) StackWorkspace(t testing.TB, repo, stack string, caPEM []byte) *Workspace {
	t.Helper()
	ws, err := NewStackWorkspace(tt.Terraform, repo, stack, t.TempDir(), tt.Cache, []toolchain.GoTool{tt.Provider}, caPEM)
	require.NoError(t, err)
	return ws
}

// Host is a simulated Proxmox VE host shaped from an inventory, prepared as
// proxmox:preflight asks and holding the Talos template talos:import builds.
type Host struct {
	// Inv is the inventory the host is shaped from.
	Inv *inventory.Inventory
	// Sim is the simulator; its request log holds the template's import,
	// then what the test sends.
	Sim *pvesim.Server
	// Client is a Go client of the simulator.
	Client *proxmox.Client
	// Setup is how many requests building the template took: a Terraform
	// run's requests follow them in the log.
	Setup int
}

// NewTalosHost starts a simulator shaped from the inventory file homelab
// (guests boot in GuestBoot) and imports the Talos template into it; the
// simulator and its image factory close when the test ends, and a failed
// test logs the simulator's request log.
func NewTalosHost(t testing.TB, homelab string) *Host {
	t.Helper()
	inv, err := inventory.Load(homelab)
	require.NoError(t, err)
	sim, err := pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, true)), pvesim.WithGuestBootDelay(GuestBoot))
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
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the simulator's request log:\n%s", FormatRequests(sim.Requests()))
		}
	})
	return &Host{Inv: inv, Sim: sim, Client: client, Setup: len(sim.Requests())}
}

// Endpoint is the provider's endpoint argument for the simulator.
func (h *Host) Endpoint() string { return strings.TrimSuffix(h.Sim.URL(), "/api2/json") }

// APIToken is the provider's api_token argument, "ID=SECRET".
func (h *Host) APIToken() string {
	id, secret := h.Sim.Token()
	return id + "=" + secret
}

// ProviderEnv is the environment the bpg provider reads its configuration
// from, as the stacks take it: PROXMOX_VE_ENDPOINT and PROXMOX_VE_API_TOKEN
// of the simulator.
func (h *Host) ProviderEnv() []string {
	return []string{"PROXMOX_VE_ENDPOINT=" + h.Endpoint(), "PROXMOX_VE_API_TOKEN=" + h.APIToken()}
}

// VMConfig reads a VM's configuration on the inventory's node as PVE holds it.
func (h *Host) VMConfig(t testing.TB, vmid int) map[string]string {
	t.Helper()
	cfg, err := h.Client.VMConfig(context.Background(), h.Inv.Proxmox.Node, vmid)
	require.NoError(t, err)
	return cfg.Values
}

// TerraformLog returns the requests Terraform sent: the log after Setup.
func (h *Host) TerraformLog() []pvesim.Request { return h.Sim.Requests()[h.Setup:] }

// ImageTemplates creates, through the Proxmox API, the image templates the
// inventory's enabled VMs are cloned from, shaped as the image builds make
// them (q35, OVMF, virtio-scsi-single, a 4 GiB disk, a NIC on the bridge,
// the agent on, tagged as ours): image building comes later, and cloning
// needs only the template. It returns their IDs.
func ImageTemplates(t testing.TB, client *proxmox.Client, inv *inventory.Inventory) []int {
	t.Helper()
	ctx := context.Background()
	var ids []int
	for _, v := range inv.VMs {
		img := inv.Images[v.Image]
		if !v.Enabled || slices.Contains(ids, img.TemplateID) {
			continue
		}
		_, err := client.CreateVM(ctx, inv.Proxmox.Node, img.TemplateID, proxmox.Params{
			"name":     v.Image + "-template",
			"machine":  "q35",
			"bios":     "ovmf",
			"efidisk0": proxmox.EFIDisk{Storage: inv.Proxmox.Storage.Disks}.String(),
			"cpu":      "host",
			"ostype":   "l26",
			"scsihw":   "virtio-scsi-single",
			"scsi0":    proxmox.Disk{Storage: inv.Proxmox.Storage.Disks, SizeGiB: 4}.String(),
			"boot":     "order=scsi0",
			"net0":     proxmox.NIC{Bridge: inv.Proxmox.Bridge}.String(),
			"agent":    "enabled=1",
			"tags":     v.Image + ";" + inventory.ManagedTag,
		}, nil)
		require.NoError(t, err)
		require.NoError(t, client.ConvertToTemplate(ctx, inv.Proxmox.Node, img.TemplateID))
		ids = append(ids, img.TemplateID)
	}
	return ids
}
