package pvesim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractDeleteUnusedFreesVolume pins what deleting an unusedN does:
// qemu-server src/PVE/API2/Qemu.pm update_vm_api ($updatefn, the delete
// loop: VM.Config.Disk, then try_deallocate_drive) and
// src/PVE/QemuServer.pm try_deallocate_drive: a volume the VM owns
// (vm_is_volid_owner) needs Datastore.AllocateSpace on its storage and is
// freed (pve-storage vdisk_free); another VM's volume only leaves the
// config. PUT runs $updatefn in the request (403), POST in its qmconfig
// task.
func TestContractDeleteUnusedFreesVolume(t *testing.T) {
	t.Run("the VM's own volume is freed", func(t *testing.T) {
		s := permsSim(t, []string{"VM.Config.Disk", "VM.Audit", "Datastore.AllocateSpace"})
		require.Equal(t, "local-zfs:vm-100-disk-1", s.config("100")["unused0"])
		a := s.call("PUT", "/nodes/pve/qemu/100/config", map[string]string{"delete": "unused0"})
		require.Equal(t, http.StatusOK, a.status, a.body)
		require.Nil(t, s.config("100")["unused0"])
		a = s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:vm-100-disk-1", nil)
		require.Equal(t, http.StatusInternalServerError, a.status, a.body)
	})
	t.Run("without space on the storage", func(t *testing.T) {
		s := permsSim(t, []string{"VM.Config.Disk", "VM.Audit", "Datastore.Audit"})
		a := s.call("PUT", "/nodes/pve/qemu/100/config", map[string]string{"delete": "unused0"})
		require.Equal(t, http.StatusForbidden, a.status, a.body)
		require.Equal(t, "Permission check failed (/storage/local-zfs, Datastore.AllocateSpace)", a.reason)
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/100/config", map[string]string{"delete": "unused0"})))
		require.Equal(t, "Permission check failed (/storage/local-zfs, Datastore.AllocateSpace)", exit)
		require.Equal(t, "local-zfs:vm-100-disk-1", s.config("100")["unused0"])
		a = s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:vm-100-disk-1", nil)
		require.Equal(t, http.StatusOK, a.status, a.body)
	})
	// pve-storage ZFSPoolPlugin parse_volname: a linked clone's volume
	// "base-100-disk-0/vm-101-disk-0" is owned by 101.
	t.Run("a linked clone's own volume is freed, its base stays", func(t *testing.T) {
		s := newSim(t)
		s.taskOK("/nodes/pve/qemu", map[string]string{"vmid": "100", "scsi0": "local-zfs:1"})
		s.taskOK("/nodes/pve/qemu/100/template", nil)
		s.taskOK("/nodes/pve/qemu/100/clone", map[string]string{"newid": "101"})
		require.Equal(t, http.StatusOK, s.call("PUT", "/nodes/pve/qemu/101/config", map[string]string{"delete": "scsi0"}).status)
		require.Equal(t, "local-zfs:base-100-disk-0/vm-101-disk-0", s.config("101")["unused0"])
		require.Equal(t, http.StatusOK, s.call("PUT", "/nodes/pve/qemu/101/config", map[string]string{"delete": "unused0"}).status)
		require.Equal(t, http.StatusInternalServerError, s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:base-100-disk-0/vm-101-disk-0", nil).status)
		require.Equal(t, http.StatusOK, s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:base-100-disk-0", nil).status)
	})
	t.Run("another VM's volume stays", func(t *testing.T) {
		s := newSim(t)
		for _, vmid := range []string{"100", "200"} {
			s.taskOK("/nodes/pve/qemu", map[string]string{"vmid": vmid, "scsi0": "local-zfs:1"})
		}
		require.Equal(t, http.StatusOK, s.call("PUT", "/nodes/pve/qemu/100/config", map[string]string{"scsi1": "local-zfs:vm-200-disk-0"}).status)
		require.Equal(t, http.StatusOK, s.call("PUT", "/nodes/pve/qemu/100/config", map[string]string{"delete": "scsi1"}).status)
		require.Equal(t, "local-zfs:vm-200-disk-0", s.config("100")["unused0"])
		require.Equal(t, http.StatusOK, s.call("PUT", "/nodes/pve/qemu/100/config", map[string]string{"delete": "unused0"}).status)
		require.Nil(t, s.config("100")["unused0"])
		require.Equal(t, http.StatusOK, s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:vm-200-disk-0", nil).status)
	})
}
