package images_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
)

// The schematic of homelab.yaml: its extensions, with the NVIDIA ones
// because the Talos node passes the GPU through.
func ExampleTalosSchematic() {
	inv, err := inventory.Load("../../homelab.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := images.TalosSchematic(inv)
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

// Pin a checksum and look it up, as talos:import -verify does.
func ExampleLockFile() {
	dir, _ := os.MkdirTemp("", "lock")
	defer os.RemoveAll(dir)
	lock, _ := images.LoadLockFile(filepath.Join(dir, images.DefaultLockFile))
	_ = lock.Pin("talos", "v1.12.7", "53513e54bb39202f35694412577a6bc53d484744d35a126e5d42ef34785c0d83", "nocloud-amd64.qcow2",
		"5752f8e1e07deed6917cfdbe934ea882bd3a8b116bcafe168556fc8ca90f6e52")
	again, _ := images.LoadLockFile(lock.Path())
	sum, ok := again.Lookup("talos", "v1.12.7", "53513e54bb39202f35694412577a6bc53d484744d35a126e5d42ef34785c0d83", "nocloud-amd64.qcow2")
	fmt.Println(ok, sum[:12])
	// Output: true 5752f8e1e07d
}
