package pvesim

import (
	"fmt"
	"slices"
)

// validDriveNames is qemu-server's valid_drive_names (QemuServer/Drive.pm):
// every drive option in the order foreach_volume visits them and the boot
// disk is chosen: ide, scsi, virtio, sata, then efidisk0 and tpmstate0.
func validDriveNames() []string {
	var names []string
	for _, bus := range []struct {
		name string
		n    int
	}{{"ide", 4}, {"scsi", 31}, {"virtio", 16}, {"sata", 6}} {
		for i := range bus.n {
			names = append(names, fmt.Sprintf("%s%d", bus.name, i))
		}
	}
	return append(names, "efidisk0", "tpmstate0")
}

// bootDriveNames is qemu-server's valid_drive_names_for_boot: the drives
// without efidisk0 and tpmstate0.
func bootDriveNames() []string {
	names := validDriveNames()
	return names[:len(names)-2]
}

// driveOrder returns the drive keys among keys in validDriveNames' order;
// unused volumes are left out.
func driveOrder(keys []string) []string {
	var out []string
	for _, k := range validDriveNames() {
		if slices.Contains(keys, k) {
			out = append(out, k)
		}
	}
	return out
}
