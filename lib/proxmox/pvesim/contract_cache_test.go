package pvesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// resourceVM is the entry of one VM in GET /cluster/resources?type=vm, or
// nil when the list has none.
func (s *sim) resourceVM(vmid int) map[string]any {
	s.t.Helper()
	var res []map[string]any
	s.call("GET", "/cluster/resources", map[string]string{"type": "vm"}).data(s.t, &res)
	for _, e := range res {
		if id, ok := e["vmid"].(float64); ok && int(id) == vmid {
			return e
		}
	}
	return nil
}

// nodeVM is the entry of one VM in GET /nodes/pve/qemu, or nil.
func (s *sim) nodeVM(vmid int) map[string]any {
	s.t.Helper()
	var res []map[string]any
	s.call("GET", "/nodes/pve/qemu", nil).data(s.t, &res)
	for _, e := range res {
		if id, ok := e["vmid"].(float64); ok && int(id) == vmid {
			return e
		}
	}
	return nil
}

// createTask creates a VM and waits for its qmcreate task.
func (s *sim) createTask(params map[string]string) {
	s.t.Helper()
	exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", params)))
	require.Equal(s.t, "OK", exit, "log: %v", log)
}

// TestContractResourcesIsACache pins pve-manager PVE/API2/Cluster.pm,
// resources: VM membership comes from the cluster filesystem's vmlist
// (PVE::Cluster::get_vmlist, live), `lock` and `tags` from
// get_guest_config_properties (live), and every other field from
// PVE::API2Tools::extract_vm_stats over the RRD data pvestatd writes every
// 10 s (PVE/Service/pvestatd.pm, update_qemu_status, $updatetime = 10). A VM
// without stats yet is listed with status "unknown" and nothing else. The
// node's list and status/current read the config (qemu-server
// src/PVE/QemuServer.pm, vmstatus): live.
func TestContractResourcesIsACache(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 100, Name: "old", Tags: "prod"}}
	s := newSim(t, pvesim.WithSetup(setup))

	t.Run("a VM that was there when the host started has stats", func(t *testing.T) {
		e := s.resourceVM(100)
		require.NotNil(t, e)
		require.Equal(t, "old", e["name"])
		require.Equal(t, "stopped", e["status"])
		require.EqualValues(t, 0, e["template"])
	})

	t.Run("a VM created a moment ago is listed, without stats", func(t *testing.T) {
		s.createTask(map[string]string{"vmid": "101", "name": "fresh", "tags": "new", "memory": "4096"})
		e := s.resourceVM(101)
		require.NotNil(t, e, "membership is live (vmlist)")
		require.Equal(t, "qemu/101", e["id"])
		require.Equal(t, "qemu", e["type"])
		require.Equal(t, "pve", e["node"])
		require.Equal(t, "unknown", e["status"], "extract_vm_stats without RRD data")
		require.Equal(t, "new", e["tags"], "tags are live")
		for _, k := range []string{"name", "template", "maxmem", "maxdisk", "maxcpu", "uptime"} {
			require.NotContains(t, e, k, "no stats yet")
		}
		// The node's own list reads the config (qemu-server vmstatus): live.
		n := s.nodeVM(101)
		require.Equal(t, "fresh", n["name"])
		require.EqualValues(t, int64(4096)<<20, n["maxmem"])
		// So does status/current (vmstatus for one VM).
		var cur map[string]any
		s.call("GET", "/nodes/pve/qemu/101/status/current", nil).data(t, &cur)
		require.Equal(t, "fresh", cur["name"])
		require.Equal(t, "stopped", cur["status"])

		s.Tick()
		e = s.resourceVM(101)
		require.Equal(t, "fresh", e["name"])
		require.Equal(t, "stopped", e["status"])
		require.EqualValues(t, int64(4096)<<20, e["maxmem"])
		require.EqualValues(t, 0, e["template"])
	})

	t.Run("a config change shows after the next update, lock and tags at once", func(t *testing.T) {
		require.Equal(t, http.StatusOK, s.call("PUT", "/nodes/pve/qemu/100/config", map[string]string{"name": "renamed", "tags": "prod;web"}).status)
		s.HoldLock(100, "backup")
		e := s.resourceVM(100)
		require.Equal(t, "old", e["name"], "name is from the last statistics")
		require.Equal(t, "prod;web", e["tags"])
		require.Equal(t, "backup", e["lock"])
		require.Equal(t, "renamed", s.nodeVM(100)["name"], "the node's list is live")

		s.ReleaseLock(100)
		e = s.resourceVM(100)
		require.NotContains(t, e, "lock", "the lock is read live")
		s.Tick()
		require.Equal(t, "renamed", s.resourceVM(100)["name"])
	})

	t.Run("a destroyed VM leaves the list at once; its ID reused shows the old statistics", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(s.call("DELETE", "/nodes/pve/qemu/100", nil)))
		require.Equal(t, "OK", exit)
		require.Nil(t, s.resourceVM(100), "membership is live")

		// pmxcfs keeps a VM's RRD entry for 5 minutes after its last
		// update (src/pmxcfs/status.c, rrdentry_expire): the new VM 100
		// shows the old one's stats until pvestatd's next cycle.
		s.createTask(map[string]string{"vmid": "100", "name": "newcomer"})
		require.Equal(t, "renamed", s.resourceVM(100)["name"])
		s.Tick()
		require.Equal(t, "newcomer", s.resourceVM(100)["name"])
	})
}

// TestContractResourcesRefreshEveryInterval: the statistics refresh on
// their own every interval (pvestatd's loop), without a Tick.
func TestContractResourcesRefreshEveryInterval(t *testing.T) {
	s := newSim(t, pvesim.WithStatsInterval(20*time.Millisecond))
	s.createTask(map[string]string{"vmid": "100", "name": "soon"})
	require.Eventually(t, func() bool {
		e := s.resourceVM(100)
		return e != nil && e["name"] == "soon"
	}, 10*time.Second, 5*time.Millisecond, "the next update brings the stats")
}
