package talosfactory_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosfactory"
)

func TestSchematicFor(t *testing.T) {
	base := []string{"siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools", "siderolabs/util-linux-tools"}
	gpu := []string{"siderolabs/nonfree-kmod-nvidia-production", "siderolabs/nvidia-container-toolkit-production"}
	tests := []struct {
		name       string
		edit       func(*inventory.Inventory)
		extensions []string
		kernelArgs []string
	}{
		{name: "a node passes its GPU through: the GPU extensions are added", extensions: append(base[:len(base):len(base)], gpu...)},
		{name: "no GPU node: only the extensions", edit: func(inv *inventory.Inventory) {
			for i := range inv.Talos.Nodes {
				inv.Talos.Nodes[i].GPU.Enabled = false
			}
		}, extensions: base},
		{name: "kernel args are kept in order", edit: func(inv *inventory.Inventory) {
			inv.Talos.KernelArgs = []string{"net.ifnames=0", "console=ttyS0"}
		}, extensions: append(base[:len(base):len(base)], gpu...), kernelArgs: []string{"net.ifnames=0", "console=ttyS0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := inventory.Load("../../homelab.yaml")
			require.NoError(t, err)
			if tt.edit != nil {
				tt.edit(inv)
			}
			s := talosfactory.SchematicFor(inv)
			require.Equal(t, tt.extensions, s.Customization.SystemExtensions.OfficialExtensions)
			require.Equal(t, tt.kernelArgs, s.Customization.ExtraKernelArgs)

			// The schematic owns copies: changing it leaves the inventory alone.
			s.Customization.SystemExtensions.OfficialExtensions[0] = "changed"
			require.Equal(t, base[0], inv.Talos.Extensions[0])
		})
	}
}

// The schematic of homelab.yaml: its extensions, with the NVIDIA ones
// because the Talos node passes the GPU through.
func ExampleSchematicFor() {
	inv, err := inventory.Load("../../homelab.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := talosfactory.SchematicFor(inv)
	id, _ := s.ID()
	fmt.Println(id)
	for _, e := range s.Customization.SystemExtensions.OfficialExtensions {
		fmt.Println(e)
	}
	// Output:
	// dc4d09323d57bcab7e71fbe3660e252f829de29b8548cf8b18355c4d1f48f266
	// siderolabs/qemu-guest-agent
	// siderolabs/iscsi-tools
	// siderolabs/util-linux-tools
	// siderolabs/nonfree-kmod-nvidia-production
	// siderolabs/nvidia-container-toolkit-production
}
