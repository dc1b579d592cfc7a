package pvesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// moveSim is a simulator with a second images storage "tank" (ZFS) and
// "local" (a directory) holding images too, a VM 100 with an EFI disk and
// two disks on local-zfs, and a token "infra@pve!t" holding the role "Test"
// (privs) on /vms and "Store" on /storage/tank.
func moveSim(t *testing.T, privs, storePrivs []string) *sim {
	t.Helper()
	setup := pvesim.DefaultSetup()
	setup.Storages = append(setup.Storages, pvesim.StorageSetup{ID: "tank", Type: "zfspool", Content: []string{"images"}})
	for i := range setup.Storages {
		if setup.Storages[i].ID == "local" {
			setup.Storages[i].Content = append(setup.Storages[i].Content, "images")
		}
	}
	setup.Roles = map[string][]string{"Test": privs, "Store": storePrivs}
	setup.Users = append(setup.Users, pvesim.User{ID: "infra@pve", Password: "pw", ACL: []pvesim.ACL{{Path: "/", Role: "Administrator", Propagate: true}}})
	setup.Tokens = append(setup.Tokens, pvesim.Token{ID: "infra@pve!t", Secret: "t", ACL: []pvesim.ACL{
		{Path: "/vms", Role: "Test", Propagate: true}, {Path: "/storage/tank", Role: "Store", Propagate: true}}})
	s := newSim(t, pvesim.WithSetup(setup))
	s.taskOK("/nodes/pve/qemu", map[string]string{
		"vmid": "100", "efidisk0": "local-zfs:1,efitype=4m,pre-enrolled-keys=0", "scsi0": "local-zfs:8,discard=on", "scsi1": "local-zfs:2",
		"ide2": "none,media=cdrom"})
	return s
}

// taskOK sends a POST that answers a UPID and requires its task to end OK;
// it returns the task's log.
func (s *sim) taskOK(path string, params map[string]string) []string {
	s.t.Helper()
	exit, log := s.waitTask(s.upid(s.call("POST", path, params)))
	require.Equal(s.t, "OK", exit, "log: %v", log)
	return log
}

// TestContractMoveDisk pins POST .../qemu/{vmid}/move_disk to another
// storage as qemu-server 9.2 answers it (src/PVE/API2/Qemu.pm
// move_vm_disk): its permissions (check ['perm', '/vms/{vmid}',
// ['VM.Config.Disk']], then $rpcenv->check on /storage/<storage> for
// Datastore.AllocateSpace), the refusals of $load_and_check_move before the
// task (check_lock, assert_if_modified, a missing disk, a CD-ROM, the same
// storage with the same format, storage_check_enabled, a storage without
// images), and $move_updatefn in a qmmove task whose ID is the VM's:
// clone_disk copies the volume to the lowest free vm-<vmid>-disk-<n> of the
// target (pve-storage find_free_diskname), print_drive writes the drive
// with the new volume, and the source is kept as the first free unusedN
// (PVE::AbstractConfig add_unused_volume) or, with delete=1, freed.
func TestContractMoveDisk(t *testing.T) {
	all := []string{"VM.Config.Disk"}
	space := []string{"Datastore.AllocateSpace"}
	t.Run("keep the source as unused", func(t *testing.T) {
		s := moveSim(t, all, space)
		root := s.auth
		s.auth = "PVEAPIToken=infra@pve!t=t"
		a := s.call("POST", "/nodes/pve/qemu/100/move_disk", map[string]string{"disk": "scsi1", "storage": "tank"})
		upid := s.upid(a)
		require.Contains(t, upid, ":qmmove:100:infra@pve!t:")
		exit, log := s.waitTask(upid)
		require.Equal(t, "OK", exit, log)
		require.Contains(t, log, "copying volume 'local-zfs:vm-100-disk-2' from current storage 'local-zfs' to target storage 'tank'")
		require.Contains(t, log, "adding source volume 'local-zfs:vm-100-disk-2' as 'unused0' to config")
		s.auth = root
		cfg := s.config("100")
		require.Equal(t, "tank:vm-100-disk-0,size=2G", cfg["scsi1"])
		require.Equal(t, "local-zfs:vm-100-disk-2", cfg["unused0"])
		require.Nil(t, cfg["lock"])
		require.Equal(t, http.StatusOK, s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:vm-100-disk-2", nil).status)
		// The unused volume itself can be moved: it stays an unusedN.
		s.taskOK("/nodes/pve/qemu/100/move_disk", map[string]string{"disk": "unused0", "storage": "tank", "delete": "1"})
		require.Equal(t, "tank:vm-100-disk-1", s.config("100")["unused0"])
	})
	t.Run("delete the source", func(t *testing.T) {
		s := moveSim(t, all, space)
		root := s.auth
		s.auth = "PVEAPIToken=infra@pve!t=t"
		log := s.taskOK("/nodes/pve/qemu/100/move_disk", map[string]string{"disk": "efidisk0", "storage": "tank", "delete": "1"})
		require.Contains(t, log, "removing source volume 'local-zfs:vm-100-disk-0' after successful copy")
		s.auth = root
		cfg := s.config("100")
		require.Equal(t, "tank:vm-100-disk-0,efitype=4m,pre-enrolled-keys=0,size=1M", cfg["efidisk0"])
		require.Nil(t, cfg["unused0"])
		require.Equal(t, http.StatusInternalServerError, s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:vm-100-disk-0", nil).status)
		// Back to a file storage: its own name and format.
		s.taskOK("/nodes/pve/qemu/100/move_disk", map[string]string{"disk": "efidisk0", "storage": "local", "format": "qcow2", "delete": "1"})
		require.Equal(t, "local:100/vm-100-disk-0.qcow2,efitype=4m,pre-enrolled-keys=0,size=1M", s.config("100")["efidisk0"])
	})
	t.Run("a running VM's disk", func(t *testing.T) {
		s := moveSim(t, all, space)
		s.taskOK("/nodes/pve/qemu/100/status/start", nil)
		s.taskOK("/nodes/pve/qemu/100/move_disk", map[string]string{"disk": "scsi0", "storage": "tank", "delete": "1"})
		require.Equal(t, "tank:vm-100-disk-0,discard=on,size=8G", s.config("100")["scsi0"])
	})
	t.Run("a linked clone's disk is copied whole", func(t *testing.T) {
		s := moveSim(t, all, space)
		s.taskOK("/nodes/pve/qemu/100/template", nil)
		s.taskOK("/nodes/pve/qemu/100/clone", map[string]string{"newid": "101", "full": "0"})
		linked := s.config("101")["scsi0"]
		require.Equal(t, "local-zfs:base-100-disk-1/vm-101-disk-1,discard=on,size=8G", linked)
		s.taskOK("/nodes/pve/qemu/101/move_disk", map[string]string{"disk": "scsi0", "storage": "tank", "delete": "1"})
		require.Equal(t, "tank:vm-101-disk-0,discard=on,size=8G", s.config("101")["scsi0"])
		require.Equal(t, http.StatusInternalServerError, s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:base-100-disk-1/vm-101-disk-1", nil).status)
		require.Equal(t, http.StatusOK, s.call("GET", "/nodes/pve/storage/local-zfs/content/local-zfs:base-100-disk-1", nil).status)
	})
	refusals := []struct {
		name         string
		privs, space []string
		params       map[string]string
		status       int
		reason       string
		errors       map[string]string
	}{
		{"without VM.Config.Disk", []string{"VM.Audit"}, space, map[string]string{"disk": "scsi1", "storage": "tank"}, 403, "Permission check failed (/vms/100, VM.Config.Disk)", nil},
		{"without space on the target", all, nil, map[string]string{"disk": "scsi1", "storage": "tank"}, 403, "Permission check failed (/storage/tank, Datastore.AllocateSpace)", nil},
		{"same storage", all, space, map[string]string{"disk": "efidisk0", "storage": "local-zfs", "delete": "1"}, 403, "Permission check failed (/storage/local-zfs, Datastore.AllocateSpace)", nil},
		{"neither storage nor target", all, space, map[string]string{"disk": "scsi1"}, 400, "Parameter verification failed.",
			map[string]string{"storage": "both 'storage' and 'target-vmid' missing, either needs to be set", "target-vmid": "both 'storage' and 'target-vmid' missing, either needs to be set"}},
		{"both storage and target", all, space, map[string]string{"disk": "scsi1", "storage": "tank", "target-vmid": "101"}, 400, "Parameter verification failed.",
			map[string]string{"storage": "either set 'storage' or 'target-vmid', but not both", "target-vmid": "either set 'storage' or 'target-vmid', but not both"}},
		{"missing disk", all, space, map[string]string{"disk": "scsi5", "storage": "tank"}, 500, "disk 'scsi5' does not exist", nil},
		{"stale digest", all, space, map[string]string{"disk": "scsi1", "storage": "tank", "digest": "0000000000000000000000000000000000000000"}, 500,
			"detected modified configuration - file changed by other user? Try again.", nil},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			s := moveSim(t, tt.privs, tt.space)
			s.auth = "PVEAPIToken=infra@pve!t=t"
			a := s.call("POST", "/nodes/pve/qemu/100/move_disk", tt.params)
			require.Equal(t, tt.status, a.status, a.body)
			require.Equal(t, tt.reason, a.reason)
			if tt.errors != nil {
				require.Equal(t, tt.errors, a.env.Errors)
			}
		})
	}
	// As root (every privilege): the refusals of $load_and_check_move.
	admin := []struct {
		name, disk, storage string
		extra               map[string]string
		status              int
		reason              string
	}{
		{"same storage with same format", "efidisk0", "local-zfs", nil, 500, "you can't move to the same storage with same format"},
		{"unknown storage", "scsi1", "nosuch", nil, 500, "storage 'nosuch' does not exist"},
		{"a CD-ROM", "ide2", "tank", nil, 500, "you can't move a cdrom"},
	}
	for _, tt := range admin {
		t.Run(tt.name, func(t *testing.T) {
			s := moveSim(t, all, space)
			params := map[string]string{"disk": tt.disk, "storage": tt.storage}
			a := s.call("POST", "/nodes/pve/qemu/100/move_disk", params)
			require.Equal(t, tt.status, a.status, a.body)
			require.Equal(t, tt.reason, a.reason)
		})
	}
}

// TestContractMoveDiskLocked pins $load_and_check_move's check_lock
// (qemu-server src/PVE/API2/Qemu.pm move_vm_disk): a VM holding a lock (here
// "create", while its qmcreate task runs) is refused before the task.
func TestContractMoveDiskLocked(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.Storages = append(setup.Storages, pvesim.StorageSetup{ID: "tank", Type: "zfspool", Content: []string{"images"}})
	s := newSim(t, pvesim.WithSetup(setup), pvesim.WithTaskDuration(time.Hour))
	upid := s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100", "scsi0": "local-zfs:1"}))
	a := s.call("POST", "/nodes/pve/qemu/100/move_disk", map[string]string{"disk": "scsi0", "storage": "tank"})
	require.Equal(t, http.StatusInternalServerError, a.status, a.body)
	require.Equal(t, "VM is locked (create)", a.reason)
	require.Equal(t, http.StatusOK, s.call("DELETE", "/nodes/pve/tasks/"+upid, nil).status)
	s.waitTask(upid)
}
