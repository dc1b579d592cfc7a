package pvesim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractDriveSizeNormalized pins that a drive's size is stored as PVE
// prints it, whatever notation the request used: qemu-server
// src/PVE/API2/Qemu.pm create_disks sets an attached volume's size from
// volume_size_info and writes the drive with print_drive
// (src/PVE/QemuServer/Drive.pm), whose print_property_string formats a
// 'disk-size' value with pve-common src/PVE/JSONSchema.pm format_size
// (largest unit that divides it: 161061273600 bytes is "150G").
func TestContractDriveSizeNormalized(t *testing.T) {
	s := newSim(t)
	a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "9100", "scsi0": "local-zfs:150", "efidisk0": "local-zfs:1,efitype=4m,pre-enrolled-keys=0"})
	require.Equal(t, http.StatusOK, a.status, a.body)
	status, _ := s.waitTask(s.upid(a))
	require.Equal(t, "OK", status)
	tests := []struct {
		name, key, value, want string
	}{
		{"bytes on an attached disk", "scsi0", "local-zfs:vm-9100-disk-1,size=161061273600,discard=on,iothread=1",
			"local-zfs:vm-9100-disk-1,discard=on,iothread=1,size=150G"},
		{"bytes on the EFI disk", "efidisk0", "local-zfs:vm-9100-disk-0,efitype=4m,pre-enrolled-keys=0,size=1048576",
			"local-zfs:vm-9100-disk-0,efitype=4m,pre-enrolled-keys=0,size=1M"},
		{"GiB notation", "scsi0", "local-zfs:vm-9100-disk-1,size=150GiB", "local-zfs:vm-9100-disk-1,size=150G"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.call("PUT", "/nodes/pve/qemu/9100/config", map[string]string{tt.key: tt.value})
			require.Equal(t, http.StatusOK, a.status, a.body)
			var cfg map[string]any
			s.call("GET", "/nodes/pve/qemu/9100/config", nil).data(t, &cfg)
			require.Equal(t, tt.want, cfg[tt.key])
		})
	}
}
