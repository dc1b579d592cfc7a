package preflight_test

import (
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

	// A second GPU node on the same mapping adds neither the mapping nor
	// its devices again.
	gpu := inv.Talos.Nodes[0]
	gpu.GPU.Enabled, gpu.GPU.Mapping, gpu.GPU.PCI = true, "rtx4000", []string{"07:00.0"}
	inv.Talos.Nodes = append(inv.Talos.Nodes, gpu)
	require.Equal(t, []string{"rtx4000"}, preflight.PlanFor(inv).PCIMappings)
	require.Equal(t, []string{"07:00.0", "07:00.1"}, preflight.PlanFor(inv).PCIDevices)
}
