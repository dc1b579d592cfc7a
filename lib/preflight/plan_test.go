package preflight_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/preflight"
)

// TestPlanFor: the plan is the inventory's host, storages, VM IDs (each
// with the field that sets it) and the mappings of the GPU nodes.
func TestPlanFor(t *testing.T) {
	inv := homelab(t)
	plan := preflight.PlanFor(inv)
	require.Equal(t, "pve", plan.Node)
	require.Equal(t, "vmbr0", plan.Bridge)
	require.Equal(t, []string{"local", "local", "local-zfs"}, []string{plan.ImportStorage, plan.ISOStorage, plan.DiskStorage})
	require.Len(t, plan.VMs, len(inv.VMIDs()))
	require.Contains(t, plan.VMs, preflight.PlannedVM{ID: 9000, Name: "talos template", Field: "talos.template_id"})
	require.Equal(t, []string{"rtx4000"}, plan.PCIMappings)
	require.Equal(t, []string{"07:00.0", "07:00.1"}, plan.PCIDevices)
	require.Equal(t, 9000, plan.TalosTemplate)

	// A second GPU node on the same mapping adds neither the mapping nor
	// its devices again.
	gpu := inv.Talos.Nodes[0]
	gpu.GPU.Enabled, gpu.GPU.Mapping, gpu.GPU.PCI = true, "rtx4000", []string{"07:00.0"}
	inv.Talos.Nodes = append(inv.Talos.Nodes, gpu)
	require.Equal(t, []string{"rtx4000"}, preflight.PlanFor(inv).PCIMappings)
	require.Equal(t, []string{"07:00.0", "07:00.1"}, preflight.PlanFor(inv).PCIDevices)
}

// TestGrantPaths: the role is granted where the table's paths need it, the
// fewest paths that cover them; without a GPU node, not on a mapping.
func TestGrantPaths(t *testing.T) {
	inv := homelab(t)
	plan := preflight.PlanFor(inv)
	require.Equal(t, []string{"/mapping/pci/rtx4000", "/nodes/pve", "/sdn/zones/localnetwork/vmbr0", "/storage", "/vms"}, plan.GrantPaths())
	plan.PCIMappings = nil
	require.Equal(t, []string{"/nodes/pve", "/sdn/zones/localnetwork/vmbr0", "/storage", "/vms"}, plan.GrantPaths())
}

// TestMinimalRole: every privilege of the table, once, sorted.
func TestMinimalRole(t *testing.T) {
	require.Equal(t, []string{"Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Mapping.Use", "SDN.Use",
		"Sys.AccessNetwork", "Sys.Audit", "VM.Allocate", "VM.Audit", "VM.Config.CPU", "VM.Config.Disk", "VM.Config.HWType",
		"VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"}, preflight.MinimalRole())
	for _, p := range preflight.Privileges() {
		require.NotEmpty(t, p.Calls, p.Name)
		require.NotEmpty(t, p.Why, p.Name)
		require.True(t, strings.HasPrefix(p.Path, "/"), p.Path)
	}
}
