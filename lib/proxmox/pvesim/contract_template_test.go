package pvesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestContractTemplateConversion pins qemu-server src/PVE/API2/Qemu.pm,
// template: inside the qmtemplate worker, under the config file lock
// (lock_config, a flock, not a config `lock`), it writes template=1 first
// and then calls PVE::QemuServer::template_create, which renames each disk
// (vdisk_create_base, in valid_drive_names order: ide, scsi, virtio, sata,
// efidisk0, tpmstate0) and writes the config after each one.
func TestContractTemplateConversion(t *testing.T) {
	newVM := func(t *testing.T, opts ...pvesim.Option) *sim {
		s := newSim(t, opts...)
		s.createTask(map[string]string{"vmid": "9000", "name": "tmpl", "bios": "ovmf",
			"efidisk0": "local-zfs:1,efitype=4m", "scsi0": "local-zfs:2"})
		return s
	}
	config := func(s *sim) map[string]any {
		var c map[string]any
		s.call("GET", "/nodes/pve/qemu/9000/config", nil).data(s.t, &c)
		return c
	}

	t.Run("success renames every disk and sets no lock", func(t *testing.T) {
		s := newVM(t)
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/9000/template", nil)))
		require.Equal(t, "OK", exit)
		c := config(s)
		require.EqualValues(t, 1, c["template"])
		require.Regexp(t, `^local-zfs:base-9000-disk-\d+,size=2G$`, c["scsi0"])
		require.Regexp(t, `^local-zfs:base-9000-disk-\d+,`, c["efidisk0"])
		require.NotContains(t, c, "lock")
	})

	t.Run("while it runs, the config has no lock", func(t *testing.T) {
		setup := pvesim.DefaultSetup()
		setup.VMs = []pvesim.VMSetup{{VMID: 9000, Name: "tmpl"}}
		s := newSim(t, pvesim.WithSetup(setup), pvesim.WithTaskDuration(time.Hour))
		upid := s.upid(s.call("POST", "/nodes/pve/qemu/9000/template", nil))
		c := config(s)
		require.NotContains(t, c, "lock", "lock_config is a file lock, not a config lock")
		var st map[string]any
		s.call("GET", "/nodes/pve/qemu/9000/status/current", nil).data(t, &st)
		require.NotContains(t, st, "lock")
		require.Equal(t, http.StatusOK, s.call("DELETE", "/nodes/pve/tasks/"+upid, nil).status)
		exit, _ := s.waitTask(upid)
		require.Equal(t, "received interrupt", exit)
	})

	t.Run("a failed conversion leaves template=1 and the disks not renamed", func(t *testing.T) {
		s := newVM(t)
		s.FailNextTask("qmtemplate", "zfs error: cannot rename")
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/9000/template", nil)))
		require.Equal(t, "zfs error: cannot rename", exit)
		c := config(s)
		require.EqualValues(t, 1, c["template"], "written before template_create")
		require.Regexp(t, `^local-zfs:vm-9000-disk-\d+,size=2G$`, c["scsi0"])
		require.Regexp(t, `^local-zfs:vm-9000-disk-\d+,`, c["efidisk0"])
		require.NotContains(t, c, "lock")

		a := s.call("POST", "/nodes/pve/qemu/9000/template", nil)
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "you can't convert a template to a template\n", a.env.Message)
	})

	t.Run("a fault part-way leaves the disks done so far renamed, the others not", func(t *testing.T) {
		s := newVM(t)
		s.FailNextTaskAfter("qmtemplate", 1, "zfs error: dataset is busy")
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/9000/template", nil)))
		require.Equal(t, "zfs error: dataset is busy", exit)
		c := config(s)
		require.EqualValues(t, 1, c["template"])
		require.Regexp(t, `^local-zfs:base-9000-disk-\d+,size=2G$`, c["scsi0"], "scsi0 comes first")
		require.Regexp(t, `^local-zfs:vm-9000-disk-\d+,`, c["efidisk0"])
	})

	t.Run("a locked VM is refused before the task", func(t *testing.T) {
		s := newVM(t)
		s.HoldLock(9000, "backup")
		a := s.call("POST", "/nodes/pve/qemu/9000/template", nil)
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "VM is locked (backup)\n", a.env.Message)
	})
}
