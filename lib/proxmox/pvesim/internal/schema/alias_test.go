package schema

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPropertyStringAliases pins parse_property_string's alias handling
// (pve-common src/PVE/JSONSchema.pm parse_property_string; check_prop skips
// the alias keys themselves) for every kind of alias the QEMU schema has: a
// NIC model key (alias macaddr, keyAlias model), a drive's "volume" (alias
// file, the default key) and its throttling "*_length" keys (alias
// "*_max_length").
func TestPropertyStringAliases(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	m, _, ok := s.Lookup("PUT", "/nodes/pve/qemu/100/config")
	require.True(t, ok)
	tests := []struct {
		name, param, value string
		err                string // "" when accepted
	}{
		{"nic model key", "net0", "vmxnet3=BC:24:11:00:00:01,bridge=vmbr0", ""},
		{"nic model key with an invalid MAC", "net1", "virtio=01:00:00:00:00:00",
			"invalid format - format error\nnet1.macaddr: invalid format - value does not look like a valid unicast MAC address\n\n"},
		{"nic model and model key", "net0", "model=virtio,e1000=BC:24:11:00:00:01",
			"invalid format - key alias 'model' is already defined\n"},
		{"drive volume key", "scsi1", "volume=local-zfs:vm-100-disk-1,size=8G", ""},
		{"drive volume and bare volume", "scsi1", "local-zfs:vm-100-disk-1,volume=local-zfs:vm-100-disk-2",
			"invalid format - key 'file' is already defined (via alias)\n"},
		{"drive length alias", "virtio1", "local-zfs:vm-100-disk-1,bps_rd_length=10", ""},
		{"drive length alias and target", "virtio1", "local-zfs:vm-100-disk-1,bps_rd_length=10,bps_rd_max_length=5",
			"invalid format - key 'bps_rd_max_length' is already defined (via alias)\n"},
		{"drive length alias out of range", "virtio1", "local-zfs:vm-100-disk-1,bps_rd_length=0",
			"invalid format - format error\nvirtio1.bps_rd_max_length: value must have a minimum value of 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := m.Validate(map[string]any{"node": "pve", "vmid": "100", tt.param: tt.value})
			if tt.err == "" {
				require.Empty(t, errs)
				return
			}
			require.Equal(t, Errors{tt.param: tt.err}, errs)
		})
	}
}
