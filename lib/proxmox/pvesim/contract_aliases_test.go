package pvesim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractNICShorthand pins that a NIC written in the form GET config
// returns it ("virtio=<MAC>,bridge=vmbr0") is accepted and stored as PVE
// prints it. pve-common src/PVE/JSONSchema.pm parse_property_string: a key
// with an alias stores its value under the alias target (macaddr) and, with
// a keyAlias, its own name under the keyAlias (model); qemu-server
// src/PVE/QemuServer/Network.pm $net_fmt declares every model of
// $nic_model_list that way, and print_net (print_property_string) writes the
// pair back as "model=MAC" first. qemu-server src/PVE/API2/Qemu.pm
// update_vm_api re-prints a netN value through parse_net/print_net.
func TestContractNICShorthand(t *testing.T) {
	s := newSim(t)
	a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "9100", "net0": "virtio,bridge=vmbr0"})
	require.Equal(t, http.StatusOK, a.status, a.body)
	s.waitTask(s.upid(a))
	// want is the stored value, or msg the refusal: parse_property_string's
	// for a key alias given twice and for an alias whose target is set too.
	tests := []struct {
		name, value, want, msg string
	}{
		{"written back as read", "virtio=BC:24:11:00:00:01,bridge=vmbr0", "virtio=BC:24:11:00:00:01,bridge=vmbr0", ""},
		{"model and macaddr keys", "model=e1000,macaddr=BC:24:11:00:00:02,bridge=vmbr0,firewall=1", "e1000=BC:24:11:00:00:02,bridge=vmbr0,firewall=1", ""},
		{"model of the full list", "bridge=vmbr0,ne2k_pci=BC:24:11:00:00:03", "ne2k_pci=BC:24:11:00:00:03,bridge=vmbr0", ""},
		{"two models", "virtio=BC:24:11:00:00:01,e1000=BC:24:11:00:00:02", "", "invalid format - key alias 'model' is already defined\n"},
		{"alias and its target", "virtio=BC:24:11:00:00:01,macaddr=BC:24:11:00:00:02", "", "invalid format - key 'macaddr' is already defined (via alias)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.call("PUT", "/nodes/pve/qemu/9100/config", map[string]string{"net0": tt.value})
			if tt.msg != "" {
				require.Equal(t, http.StatusBadRequest, a.status, a.body)
				require.Equal(t, map[string]string{"net0": tt.msg}, a.env.Errors)
				return
			}
			require.Equal(t, http.StatusOK, a.status, a.body)
			require.Equal(t, tt.want, s.config("9100")["net0"])
		})
	}
}

// TestContractDriveAliases pins that a drive's aliased keys are stored under
// their targets: qemu-server src/PVE/QemuServer/Drive.pm parse_drive
// (parse_property_string: "volume" is an alias of the default key "file",
// "bps_rd_length" of "bps_rd_max_length") and print_drive, with which
// qemu-server src/PVE/API2/Qemu.pm create_disks writes a new disk.
func TestContractDriveAliases(t *testing.T) {
	s := newSim(t)
	a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "9100", "scsi0": "volume=local-zfs:8,bps_rd_length=10,discard=on"})
	require.Equal(t, http.StatusOK, a.status, a.body)
	status, _ := s.waitTask(s.upid(a))
	require.Equal(t, "OK", status)
	var cfg map[string]any
	s.call("GET", "/nodes/pve/qemu/9100/config", nil).data(t, &cfg)
	require.Equal(t, "local-zfs:vm-9100-disk-0,bps_rd_max_length=10,discard=on,size=8G", cfg["scsi0"])
}

// TestContractCloneNewMACEveryModel pins that a clone's NICs get new MACs
// whatever their model: qemu-server src/PVE/API2/Qemu.pm clone_vm parses
// each netN with parse_net, drops its macaddr and prints it with a new one
// (print_net), for every model of $nic_model_list.
func TestContractCloneNewMACEveryModel(t *testing.T) {
	s := newSim(t)
	a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "9100", "net0": "ne2k_pci=BC:24:11:00:00:01,bridge=vmbr0", "net1": "virtio=BC:24:11:00:00:02"})
	require.Equal(t, http.StatusOK, a.status, a.body)
	s.waitTask(s.upid(a))
	status, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/9100/clone", map[string]string{"newid": "9101"})))
	require.Equal(t, "OK", status, log)
	cfg := s.config("9101")
	require.Regexp(t, `^ne2k_pci=BC:24:11:[0-9A-F:]{8},bridge=vmbr0$`, cfg["net0"])
	require.NotEqual(t, "ne2k_pci=BC:24:11:00:00:01,bridge=vmbr0", cfg["net0"])
	require.NotEqual(t, "virtio=BC:24:11:00:00:02", cfg["net1"])
}
