package pvesim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractDriveChecks pins the drive checks of qemu-server 9.2
// src/PVE/API2/Qemu.pm that create_vm and update_vm run before any task:
//   - $check_drive_param: a drive (any bus, not only ide2/sataN) holding an
//     existing volume of vtype 'iso' needs media=cdrom, else a 400 on the
//     drive's parameter "explicit 'media=cdrom' is required for iso images";
//     efidisk0 with import-from needs both efitype and pre-enrolled-keys
//     (checked in that order, none defaulted), tpmstate0 with import-from
//     needs version: "need to specify '<key>' when using 'import-from'".
//   - $check_storage_access: an existing volume whose vtype is neither
//     'images' nor 'iso' (an 'import' volume attached directly rather than
//     through import-from) is a 400 on the drive's parameter "content type
//     needs to be 'images' or 'iso'".
//   - $resolve_cdrom_alias: the 'cdrom' parameter is ide2 with media=cdrom.
func TestContractDriveChecks(t *testing.T) {
	s := importedSim(t)
	exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "200"})))
	require.Equal(t, "OK", exit)
	const isoNeedsCdrom = "explicit 'media=cdrom' is required for iso images"
	const notImagesOrISO = "content type needs to be 'images' or 'iso'"
	tests := []struct {
		name   string
		params map[string]string
		param  string
		msg    string
	}{
		{"ISO on ide2 without media", map[string]string{"ide2": "local:iso/x.iso"}, "ide2", isoNeedsCdrom},
		{"ISO on sata1 without media", map[string]string{"sata1": "local:iso/x.iso"}, "sata1", isoNeedsCdrom},
		{"ISO on scsi1 as a disk", map[string]string{"scsi1": "local:iso/x.iso,media=disk"}, "scsi1", isoNeedsCdrom},
		{"import volume attached directly", map[string]string{"scsi0": "local:import/talos.qcow2"}, "scsi0", notImagesOrISO},
		{"import volume attached as a CD-ROM", map[string]string{"ide2": "local:import/talos.qcow2,media=cdrom"}, "ide2", notImagesOrISO},
		{"efidisk0 import without efitype", map[string]string{"efidisk0": "local-zfs:0,import-from=local:import/talos.qcow2"},
			"efidisk0", "need to specify 'efitype' when using 'import-from'"},
		{"efidisk0 import without pre-enrolled-keys", map[string]string{"efidisk0": "local-zfs:0,efitype=4m,import-from=local:import/talos.qcow2"},
			"efidisk0", "need to specify 'pre-enrolled-keys' when using 'import-from'"},
		{"tpmstate0 import without version", map[string]string{"tpmstate0": "local-zfs:0,import-from=local:import/talos.qcow2"},
			"tpmstate0", "need to specify 'version' when using 'import-from'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			create := map[string]string{"vmid": "100"}
			for k, v := range tt.params {
				create[k] = v
			}
			a := s.call("POST", "/nodes/pve/qemu", create)
			require.Equal(t, http.StatusBadRequest, a.status, a.body)
			require.Equal(t, tt.msg+"\n", a.env.Errors[tt.param], a.body)

			a = s.call("PUT", "/nodes/pve/qemu/200/config", tt.params)
			require.Equal(t, http.StatusBadRequest, a.status, a.body)
			require.Equal(t, tt.msg+"\n", a.env.Errors[tt.param], a.body)
		})
	}
	t.Run("accepted forms", func(t *testing.T) {
		exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{
			"vmid": "101", "sata0": "local:iso/x.iso,media=cdrom", "cdrom": "local:iso/x.iso",
			"efidisk0": "local-zfs:0,efitype=4m,pre-enrolled-keys=0,import-from=local:import/talos.qcow2",
		})))
		require.Equal(t, "OK", exit, log)
		cfg := s.config("101")
		require.Equal(t, "local:iso/x.iso,media=cdrom,size=3", cfg["ide2"], "'cdrom' is an alias of ide2 with media=cdrom; an attached volume gets its size")
		require.NotContains(t, cfg, "cdrom")
		require.Equal(t, "local:iso/x.iso,media=cdrom,size=3", cfg["sata0"])
		require.Regexp(t, `^local-zfs:vm-101-disk-0,efitype=4m,pre-enrolled-keys=0,size=`, cfg["efidisk0"])
	})
}
