package inventory

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
)

// NamedRange is an allocation range with its key in network.ranges.
type NamedRange struct {
	// Name is the key in network.ranges, e.g. "vms".
	Name string
	Range
}

// List returns the ranges in address order of the default plan.
func (r Ranges) List() []NamedRange {
	return []NamedRange{
		{"infrastructure", r.Infrastructure},
		{"services", r.Services},
		{"applications", r.Applications},
		{"vms", r.VMs},
		{"load_balancer", r.LoadBalancer},
	}
}

// Address kinds reported by Inventory.Addresses.
const (
	KindGateway   = "gateway"
	KindHost      = "host"
	KindTalosNode = "talos-node"
	KindTalosVIP  = "talos-vip"
	KindService   = "service"
	KindVM        = "vm"
)

// Address is one static address of the plan.
type Address struct {
	// IP is the address.
	IP netip.Addr `json:"ip"`
	// Name is the host, node, service or VM holding it.
	Name string `json:"name"`
	// Kind is one of the Kind* constants.
	Kind string `json:"kind"`
	// Range is the key of the allocation range it must lie in.
	Range string `json:"range"`
	// Path is the field that sets it, e.g. "talos.nodes[0].ip".
	Path string `json:"path"`
}

// Addresses lists every static address in the inventory, in file order.
func (inv *Inventory) Addresses() []Address {
	out := []Address{{inv.Network.Gateway, "gateway", KindGateway, "infrastructure", "network.gateway"}}
	for i, h := range inv.Hosts {
		out = append(out, Address{h.IP, h.Name, KindHost, "infrastructure", fmt.Sprintf("hosts[%d].ip", i)})
	}
	for i, n := range inv.Talos.Nodes {
		out = append(out, Address{n.IP, n.Name, KindTalosNode, "infrastructure", fmt.Sprintf("talos.nodes[%d].ip", i)})
	}
	if inv.Talos.VIP.IsValid() {
		out = append(out, Address{inv.Talos.VIP, inv.Talos.ClusterName + "-vip", KindTalosVIP, "infrastructure", "talos.vip"})
	}
	for i, s := range inv.Services {
		out = append(out, Address{s.IP, s.Name, KindService, "services", fmt.Sprintf("services[%d].ip", i)})
	}
	for i, v := range inv.VMs {
		out = append(out, Address{v.IP, v.Name, KindVM, "vms", fmt.Sprintf("vms[%d].ip", i)})
	}
	return out
}

// VM ID kinds reported by Inventory.VMIDs.
const (
	KindBaseVM        = "base-vm"
	KindTemplate      = "template"
	KindTalosTemplate = "talos-template"
)

// VMID is one Proxmox VM ID of the plan.
type VMID struct {
	// ID is the Proxmox VM ID.
	ID int `json:"id"`
	// Name says what holds it: "ubuntu template", "talos-cp-01", ...
	Name string `json:"name"`
	// Kind is KindBaseVM, KindTemplate, KindTalosTemplate, KindTalosNode or KindVM.
	Kind string `json:"kind"`
	// Path is the field that sets it.
	Path string `json:"path"`
}

// VMIDs lists every VM ID in the inventory: templates (images in name order,
// then Talos), Talos nodes, then VMs.
func (inv *Inventory) VMIDs() []VMID {
	var out []VMID
	for _, name := range inv.ImageNames() {
		img := inv.Images[name]
		out = append(out,
			VMID{img.BaseVMID, name + " base VM", KindBaseVM, "images." + name + ".base_vm_id"},
			VMID{img.TemplateID, name + " template", KindTemplate, "images." + name + ".template_id"})
	}
	out = append(out, VMID{inv.Talos.TemplateID, "talos template", KindTalosTemplate, "talos.template_id"})
	for i, n := range inv.Talos.Nodes {
		out = append(out, VMID{n.VMID, n.Name, KindTalosNode, fmt.Sprintf("talos.nodes[%d].vm_id", i)})
	}
	for i, v := range inv.VMs {
		out = append(out, VMID{v.VMID, v.Name, KindVM, fmt.Sprintf("vms[%d].vm_id", i)})
	}
	return out
}

// ImageNames returns the keys of Images in sorted order.
func (inv *Inventory) ImageNames() []string {
	return slices.Sorted(maps.Keys(inv.Images))
}

// ChartNames returns the keys of Kubernetes.Charts in sorted order.
func (inv *Inventory) ChartNames() []string {
	return slices.Sorted(maps.Keys(inv.Kubernetes.Charts))
}

// ToolNames returns the keys of Tools in sorted order.
func (inv *Inventory) ToolNames() []string {
	return slices.Sorted(maps.Keys(inv.Tools))
}

// GPUExtensionsNeeded reports whether any node passes a GPU through, which
// adds Talos.GPUExtensions to the image.
func (inv *Inventory) GPUExtensionsNeeded() bool {
	return slices.ContainsFunc(inv.Talos.Nodes, func(n TalosNode) bool { return n.GPU.Enabled })
}
