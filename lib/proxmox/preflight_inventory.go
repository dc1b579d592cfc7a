package proxmox

import (
	"context"
	"slices"

	"github.com/wdiazux/infra/lib/inventory"
)

// PlanFor derives the preflight plan from the inventory: its node, bridge
// and storages, every VM ID it plans, and the PCI mappings of the nodes
// that pass a GPU through.
func PlanFor(inv *inventory.Inventory) PreflightPlan {
	px := inv.Proxmox
	plan := PreflightPlan{Node: px.Node, Bridge: px.Bridge, ImportStorage: px.Storage.Import, ISOStorage: px.Storage.ISO, DiskStorage: px.Storage.Disks}
	for _, id := range inv.VMIDs() {
		plan.VMs = append(plan.VMs, PlannedVM{ID: id.ID, Name: id.Name, Field: id.Path})
	}
	for _, n := range inv.Talos.Nodes {
		if n.GPU.Enabled && !slices.Contains(plan.PCIMappings, n.GPU.Mapping) {
			plan.PCIMappings = append(plan.PCIMappings, n.GPU.Mapping)
			plan.PCIDevices = append(plan.PCIDevices, n.GPU.PCI...)
		}
	}
	return plan
}

// PreflightInventory runs Preflight for the inventory's plan with a client
// configured from the environment. A client that cannot be configured is an
// error; everything else is in the report.
func PreflightInventory(ctx context.Context, inv *inventory.Inventory, opts ...Option) (PreflightReport, error) {
	c, err := NewFromEnv(opts...)
	if err != nil {
		return PreflightReport{}, err
	}
	return c.Preflight(ctx, PlanFor(inv)), nil
}
