package pvesim_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
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

// TestContractResizeFailsInTheTask pins qemu-server 9.2 src/PVE/API2/Qemu.pm
// resize_vm: only the parameters are checked before fork_worker('resize');
// loading the config, the digest ("checksum mismatch (file change by other
// user?)"), the lock, the disk's existence, the CD-ROM and the shrink
// checks all run in the worker, so the call answers a UPID and the task
// fails with the message. The current size is the volume's
// (volume_size_info), and there is no template check.
func TestContractResizeFailsInTheTask(t *testing.T) {
	s := importedSim(t)
	exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{
		"vmid": "100", "scsi0": "local-zfs:2", "ide2": "local:iso/x.iso,media=cdrom",
	})))
	require.Equal(t, "OK", exit)
	tests := []struct {
		name   string
		vmid   string
		params map[string]string
		exit   string
	}{
		{"digest mismatch", "100", map[string]string{"disk": "scsi0", "size": "+1G", "digest": strings.Repeat("0", 40)},
			"checksum mismatch (file change by other user?)"},
		{"missing disk", "100", map[string]string{"disk": "scsi5", "size": "+1G"}, "disk 'scsi5' does not exist"},
		{"CD-ROM", "100", map[string]string{"disk": "ide2", "size": "+1G"}, "you can't resize a cdrom"},
		{"shrink", "100", map[string]string{"disk": "scsi0", "size": "1G"}, "shrinking disks is not supported"},
		{"unknown VM", "999", map[string]string{"disk": "scsi0", "size": "+1G"}, "Configuration file 'nodes/pve/qemu-server/999.conf' does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.call("PUT", "/nodes/pve/qemu/"+tt.vmid+"/resize", tt.params)
			require.Equal(t, http.StatusOK, a.status, a.body)
			exit, _ := s.waitTask(s.upid(a))
			require.Equal(t, tt.exit, exit)
		})
	}
	t.Run("locked", func(t *testing.T) {
		require.True(t, s.HoldLock(100, "backup"))
		defer s.ReleaseLock(100)
		exit, _ := s.waitTask(s.upid(s.call("PUT", "/nodes/pve/qemu/100/resize", map[string]string{"disk": "scsi0", "size": "+1G"})))
		require.Equal(t, "VM is locked (backup)", exit)
	})
	t.Run("skiplock is root's", func(t *testing.T) {
		setup := pvesim.DefaultSetup()
		setup.Tokens = append(setup.Tokens, pvesim.Token{ID: "infra@pve!vm", Secret: "vm", ACL: []pvesim.ACL{{Path: "/", Role: "PVEVMAdmin", Propagate: true}}})
		other := newSim(t, pvesim.WithSetup(setup))
		other.auth = "PVEAPIToken=infra@pve!vm=vm"
		a := other.call("PUT", "/nodes/pve/qemu/100/resize", map[string]string{"disk": "scsi0", "size": "+1G", "skiplock": "1"})
		require.Equal(t, http.StatusBadRequest, a.status, a.body)
		require.Equal(t, "Only root may use this option.\n", a.env.Errors["skiplock"])
	})
	t.Run("grows from the volume's size", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(s.call("PUT", "/nodes/pve/qemu/100/resize", map[string]string{"disk": "scsi0", "size": "+1G"})))
		require.Equal(t, "OK", exit)
		require.Equal(t, "local-zfs:vm-100-disk-0,size=3G", s.config("100")["scsi0"])
	})
}

// TestContractCloneLockAndDiskNames pins the clone of qemu-server 9.2
// src/PVE/API2/Qemu.pm clone_vm and QemuServer.pm clone_disk, and the disk
// names of pve-storage 9.1 src/PVE/Storage/Plugin.pm find_free_diskname /
// get_next_vm_diskname (ZFSPoolPlugin.pm clone_image for linked clones):
//   - the new VM's config holds "lock: clone" for the whole task (the
//     temporary config, then every write until the last); the source's
//     config is not locked (clone_vm only takes its file lock);
//   - an existing target ID is "unable to create VM <newid>: config file
//     already exists";
//   - every new disk, linked ("base-9000-disk-1/vm-101-disk-<n>" on ZFS),
//     full or added later, is vm-<vmid>-disk-<n> with the lowest n no
//     volume of that VM on that storage uses, base- names and linked names
//     included; drives are cloned sorted by name; the cloud-init drive and
//     tpmstate0 are always copied, unusedN are not cloned;
//   - a linked clone of a volume that is not a base volume fails: "Linked
//     clone feature is not supported for '<volid>' (<drive>)".
func TestContractCloneLockAndDiskNames(t *testing.T) {
	s := importedSim(t)
	exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{
		"vmid": "9000", "name": "base", "efidisk0": "local-zfs:1,efitype=4m,pre-enrolled-keys=0",
		"scsi0": "local-zfs:0,import-from=local:import/talos.qcow2", "tpmstate0": "local-zfs:1,version=v2.0",
		"ide2": "local-zfs:cloudinit", "net0": "virtio,bridge=vmbr0",
	})))
	require.Equal(t, "OK", exit, log)

	a := s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "103", "full": "0"})
	require.Equal(t, http.StatusInternalServerError, a.status, a.body)
	require.Equal(t, "Linked clone feature is not supported for 'local-zfs:vm-9000-disk-0' (efidisk0)", a.reason)

	exit, log = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/9000/template", nil)))
	require.Equal(t, "OK", exit, log)

	exit, log = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "101", "name": "linked"})))
	require.Equal(t, "OK", exit, log)
	cfg := s.config("101")
	require.Equal(t, "local-zfs:base-9000-disk-0/vm-101-disk-0,efitype=4m,pre-enrolled-keys=0,size=1M", cfg["efidisk0"])
	require.Equal(t, "local-zfs:base-9000-disk-1/vm-101-disk-1,size=3584M", cfg["scsi0"])
	require.Equal(t, "local-zfs:vm-101-disk-2,size=4M,version=v2.0", cfg["tpmstate0"], "tpmstate0 is copied, not linked")
	require.Equal(t, "local-zfs:vm-101-cloudinit,media=cdrom", cfg["ide2"])

	exit, _ = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/101/config", map[string]string{"scsi1": "local-zfs:2", "virtio0": "local-zfs:1"})))
	require.Equal(t, "OK", exit)
	cfg = s.config("101")
	require.Equal(t, "local-zfs:vm-101-disk-3,size=2G", cfg["scsi1"], "sorted by name, scsi1 comes before virtio0")
	require.Equal(t, "local-zfs:vm-101-disk-4,size=1G", cfg["virtio0"])

	a = s.call("DELETE", "/nodes/pve/storage/local-zfs/content/local-zfs:vm-101-disk-2", nil)
	exit, _ = s.waitTask(s.upid(a))
	require.Equal(t, "OK", exit)
	exit, _ = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/101/config", map[string]string{"scsi2": "local-zfs:1"})))
	require.Equal(t, "OK", exit)
	require.Equal(t, "local-zfs:vm-101-disk-2,size=1G", s.config("101")["scsi2"], "the lowest free number is reused")

	exit, log = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "102", "full": "1", "storage": "local-zfs"})))
	require.Equal(t, "OK", exit, log)
	cfg = s.config("102")
	require.Equal(t, "local-zfs:vm-102-disk-0,efitype=4m,pre-enrolled-keys=0,size=1M", cfg["efidisk0"])
	require.Equal(t, "local-zfs:vm-102-disk-1,size=3584M", cfg["scsi0"])
	require.Equal(t, "local-zfs:vm-102-disk-2,size=4M,version=v2.0", cfg["tpmstate0"])

	a = s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "102"})
	require.Equal(t, http.StatusInternalServerError, a.status)
	require.Equal(t, "unable to create VM 102: config file already exists", a.reason)
}

// TestContractCloneHoldsLockClone pins the lock of qemu-server 9.2 clone_vm:
// the new VM's config says "lock: clone" from the temporary config to the
// last write of the qmclone worker, the source's config has no lock, and a
// failed clone removes the new config.
func TestContractCloneHoldsLockClone(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 9000, Name: "base", Template: true}}
	s := newSim(t, pvesim.WithSetup(setup), pvesim.WithTaskDuration(time.Hour))
	upid := s.upid(s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "101"}))
	require.NotContains(t, s.config("9000"), "lock", "the source's config is not locked")
	s.requireLockedUntilStopped(upid, "101", "clone")
}

// TestContractDefaultBootOrder pins qemu-server 9.2 src/PVE/API2/Qemu.pm
// create_vm, which sets boot from QemuServer.pm get_default_bootdevices
// when none is given: the first disk, then the first CD-ROM (the cloud-init
// drive counts: resolve_first_disk does not exclude it), then the first
// NIC, in valid_drive_names order (ide, scsi, virtio, sata). With none of
// them print_bootorder is "" and the config has no boot line.
func TestContractDefaultBootOrder(t *testing.T) {
	s := importedSim(t)
	tests := []struct {
		name   string
		params map[string]string
		boot   string
	}{
		{"no disk, no NIC", map[string]string{}, ""},
		{"only a NIC", map[string]string{"net0": "virtio,bridge=vmbr0"}, "order=net0"},
		{"first of each kind", map[string]string{
			"sata0": "local-zfs:1", "virtio0": "local-zfs:1", "scsi3": "local-zfs:1", "ide2": "local-zfs:cloudinit",
			"sata1": "local:iso/x.iso,media=cdrom", "efidisk0": "local-zfs:1", "net0": "virtio,bridge=vmbr0",
		}, "order=scsi3;ide2;net0"},
		{"given", map[string]string{"scsi0": "local-zfs:1", "boot": "order=scsi0"}, "order=scsi0"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vmid := strconv.Itoa(300 + i)
			params := map[string]string{"vmid": vmid}
			for k, v := range tt.params {
				params[k] = v
			}
			exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", params)))
			require.Equal(t, "OK", exit, log)
			cfg := s.config(vmid)
			if tt.boot == "" {
				require.NotContains(t, cfg, "boot")
				return
			}
			require.Equal(t, tt.boot, cfg["boot"])
		})
	}
}
