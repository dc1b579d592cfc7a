package pvesim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestContractReadShapes checks the success shape of the read-only
// endpoints the other contract tests do not already look at.
func TestContractReadShapes(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 100, Name: "web", Tags: "prod"}}
	setup.PCIMappings = []pvesim.PCIMapping{{ID: "rtx4000", Path: "0000:07:00", DeviceID: "10de:27b0", Description: "GPU"}}
	s := newSim(t, pvesim.WithSetup(setup))
	srv := testtool.ServeFiles(t, map[string][]byte{"talos.qcow2": testtool.QCOW2(t, 1<<30, nil)})

	var status map[string]any
	s.call("GET", "/nodes/pve/status", nil).data(t, &status)
	require.Contains(t, status["pveversion"], "pve-manager/9.0.3/")
	require.Contains(t, status, "cpuinfo")
	require.Contains(t, status, "memory")

	var configs []map[string]any
	s.call("GET", "/storage", nil).data(t, &configs)
	require.Len(t, configs, 2)
	require.Equal(t, "/var/lib/vz", configs[0]["path"])
	require.Regexp(t, `^[0-9a-f]{40}$`, configs[0]["digest"])

	var st map[string]any
	s.call("GET", "/nodes/pve/storage/local-zfs/status", nil).data(t, &st)
	require.Equal(t, "zfspool", st["type"])
	require.Equal(t, "images,rootdir", st["content"])
	require.EqualValues(t, 1, st["active"])

	var vms []map[string]any
	s.call("GET", "/nodes/pve/qemu", nil).data(t, &vms)
	require.Len(t, vms, 1)
	require.EqualValues(t, 100, vms[0]["vmid"])
	require.Equal(t, "stopped", vms[0]["status"])
	require.Equal(t, "prod", vms[0]["tags"])

	var cur map[string]any
	s.call("GET", "/nodes/pve/qemu/100/status/current", nil).data(t, &cur)
	require.Equal(t, "stopped", cur["qmpstatus"])
	require.Equal(t, "web", cur["name"])

	var meta map[string]any
	s.call("GET", "/nodes/pve/query-url-metadata", map[string]string{"url": srv.URL + "/talos.qcow2"}).data(t, &meta)
	require.Equal(t, "talos.qcow2", meta["filename"])
	require.EqualValues(t, len(testtool.QCOW2(t, 1<<30, nil)), meta["size"])

	var m map[string]any
	s.call("GET", "/cluster/mapping/pci/rtx4000", nil).data(t, &m)
	require.Equal(t, "GPU", m["description"])
	a := s.call("GET", "/cluster/mapping/pci/none", nil)
	require.Equal(t, 500, a.status)
	require.Equal(t, "PCI mapping 'none' does not exist", a.reason)
}
