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
	// PCIMappings are the PCI resource mappings GPU passthrough uses.
	PCIMappings []string
	// PCIDevices are the host PCI functions the mappings should point at.
	PCIDevices []string
}

// PlanFor derives the plan from the inventory: its node, bridge and
// storages, every VM ID it plans, and the PCI mappings of the nodes that
// pass a GPU through.
func PlanFor(inv *inventory.Inventory) Plan {
	px := inv.Proxmox
	plan := Plan{Node: px.Node, Bridge: px.Bridge, ImportStorage: px.Storage.Import, ISOStorage: px.Storage.ISO, DiskStorage: px.Storage.Disks}
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

// requirement is a set of privileges the plan needs on an ACL path.
type requirement struct {
	path  string
	privs []string
	why   string
}

// vmPrivileges are what creating, configuring and cloning a VM needs on
// its /vms/ID path.
var vmPrivileges = []string{"VM.Allocate", "VM.Audit", "VM.Clone", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk",
	"VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"}

// requirements are the privileges each planned operation needs, per path.
func (p Plan) requirements() []requirement {
	reqs := []requirement{
		{"/nodes/" + p.Node, []string{"Sys.Audit", "Sys.AccessNetwork"}, "read the node and let it download images"},
		{"/storage/" + p.ImportStorage, []string{"Datastore.Audit", "Datastore.Allocate", "Datastore.AllocateTemplate"}, "list, download into and enable import content"},
		{"/storage/" + p.DiskStorage, []string{"Datastore.Audit", "Datastore.AllocateSpace"}, "allocate VM disks"},
		{"/sdn/zones/localnetwork/" + p.Bridge, []string{"SDN.Use"}, "attach NICs to the bridge"},
	}
	if p.ISOStorage != "" && p.ISOStorage != p.ImportStorage {
		reqs = append(reqs, requirement{"/storage/" + p.ISOStorage, []string{"Datastore.Audit", "Datastore.AllocateTemplate"}, "download ISOs"})
	}
	for _, vm := range p.VMs {
		reqs = append(reqs, requirement{fmt.Sprintf("/vms/%d", vm.ID), vmPrivileges, "create, configure and clone " + vm.Name})
	}
	for _, m := range p.PCIMappings {
		reqs = append(reqs, requirement{"/mapping/pci/" + m, []string{"Mapping.Use"}, "pass the GPU through"})
	}
	return reqs
}
