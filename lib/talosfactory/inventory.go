package talosfactory

import (
	"slices"

	"github.com/wdiazux/infra/lib/inventory"
)

// SchematicFor is the schematic of the inventory's Talos images: its
// talos.extensions, then talos.gpu_extensions when a node passes a GPU
// through, and talos.kernel_args. The schematic holds copies, so changing
// it leaves the inventory as it was.
func SchematicFor(inv *inventory.Inventory) Schematic {
	exts := slices.Clone(inv.Talos.Extensions)
	if inv.GPUExtensionsNeeded() {
		exts = append(exts, inv.Talos.GPUExtensions...)
	}
	return NewSchematic(exts, slices.Clone(inv.Talos.KernelArgs))
}
