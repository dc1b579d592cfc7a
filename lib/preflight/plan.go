package preflight

import (
	"fmt"
	"slices"

	"github.com/wdiazux/infra/lib/inventory"
)

// PlannedVM is a VM ID the plan will use.
type PlannedVM struct {
	ID int
	// Name says what the ID is for, e.g. "ubuntu template".
	Name string
	// Field is where the inventory sets it, e.g. images.ubuntu.template_id.
	Field string
}

// Plan is what the planned operations need from the host.
type Plan struct {
	Node   string
	Bridge string
	// ImportStorage receives downloaded disk images ("import" content).
	ImportStorage string
	// ISOStorage receives ISOs ("iso" content).
	ISOStorage string
	// DiskStorage holds VM disks ("images" content).
	DiskStorage string
	// VMs are the planned VM IDs.
	VMs []PlannedVM
	// TalosTemplate is the VM ID talos:import builds the Talos template at.
	TalosTemplate int
	// PCIMappings are the PCI resource mappings GPU passthrough uses.
	PCIMappings []string
	// PCIDevices are the host PCI functions the mappings should point at.
	PCIDevices []string
	// PCIMappingFields are the inventory fields naming each of
	// PCIMappings, e.g. talos.nodes[0].gpu.mapping (same order).
	PCIMappingFields []string
	// Templates are the VM templates that must already exist on the node,
	// because what is planned clones them (empty: none is checked).
	Templates []PlannedVM
}

// PlanFor derives the plan from the inventory: its node, bridge and
// storages, every VM ID it plans, and the PCI mappings of the nodes that
// pass a GPU through.
func PlanFor(inv *inventory.Inventory) Plan {
	px := inv.Proxmox
	plan := Plan{Node: px.Node, Bridge: px.Bridge, ImportStorage: px.Storage.Import, ISOStorage: px.Storage.ISO, DiskStorage: px.Storage.Disks,
		TalosTemplate: inv.Talos.TemplateID}
	for _, id := range inv.VMIDs() {
		plan.VMs = append(plan.VMs, PlannedVM{ID: id.ID, Name: id.Name, Field: id.Path})
	}
	for i, n := range inv.Talos.Nodes {
		if n.GPU.Enabled && !slices.Contains(plan.PCIMappings, n.GPU.Mapping) {
			plan.PCIMappings = append(plan.PCIMappings, n.GPU.Mapping)
			plan.PCIMappingFields = append(plan.PCIMappingFields, fmt.Sprintf("talos.nodes[%d].gpu.mapping", i))
			plan.PCIDevices = append(plan.PCIDevices, n.GPU.PCI...)
		}
	}
	return plan
}
