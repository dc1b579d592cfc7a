package pvesim_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

var upidRe = regexp.MustCompile(`^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmcreate:100:root@pam!infra:$`)

func TestContractTaskStatusAndLog(t *testing.T) {
	slow := newSim(t, pvesim.WithTaskDuration(time.Hour))
	upid := slow.upid(slow.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100", "name": "t1"}))
	require.Regexp(t, upidRe, upid)
	var running map[string]any
	slow.call("GET", "/nodes/pve/tasks/"+upid+"/status", nil).data(t, &running)
	require.Equal(t, "running", running["status"])
	_, hasExit := running["exitstatus"]
	require.False(t, hasExit, "exitstatus only appears once the task stopped")
	require.Equal(t, "root@pam", running["user"])
	require.Equal(t, "infra", running["tokenid"])
	require.Equal(t, "qmcreate", running["type"])
	require.Equal(t, "100", running["id"])
	_, hasEnd := running["endtime"]
	require.False(t, hasEnd)

	s := newSim(t)
	upid = s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100", "name": "t1"}))
	exit, log := s.waitTask(upid)
	require.Equal(t, "OK", exit)
	require.Equal(t, "TASK OK", log[len(log)-1])
	var stopped map[string]any
	s.call("GET", "/nodes/pve/tasks/"+upid+"/status", nil).data(t, &stopped)
	require.Equal(t, "stopped", stopped["status"])
	require.Equal(t, "OK", stopped["exitstatus"])

	a := s.call("GET", "/nodes/pve/tasks/"+upid+"/log", map[string]string{"start": "0", "limit": "1"})
	var lines []struct {
		N int    `json:"n"`
		T string `json:"t"`
	}
	a.data(t, &lines)
	require.Len(t, lines, 1)
	require.Equal(t, 1, lines[0].N, "log lines are numbered from 1")
	require.NotNil(t, a.env.Total)
	require.Equal(t, len(log), *a.env.Total)
}

func TestContractTaskOutcomes(t *testing.T) {
	s := newSim(t)
	s.FailNextTask("qmcreate", "unable to create VM 101 - something broke")
	exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "101"})))
	require.Equal(t, "unable to create VM 101 - something broke", exit)
	require.Equal(t, "TASK ERROR: unable to create VM 101 - something broke", log[len(log)-1])
	require.Equal(t, http.StatusInternalServerError, s.call("GET", "/nodes/pve/qemu/101/config", nil).status, "a failed create leaves no VM")

	s.WarnNextTask("qmcreate", 2)
	exit, log = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "102"})))
	require.Equal(t, "WARNINGS: 2", exit)
	require.Equal(t, "TASK WARNINGS: 2", log[len(log)-1])
	require.Equal(t, http.StatusOK, s.call("GET", "/nodes/pve/qemu/102/config", nil).status, "warnings are success")
}

func TestContractUnknownTask(t *testing.T) {
	s := newSim(t)
	a := s.call("GET", "/nodes/pve/tasks/UPID:pve:00000001:00000001:00000001:qmcreate:100:root@pam:/status", nil)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "no such task\n", a.env.Errors["upid"])

	a = s.call("GET", "/nodes/pve/tasks/not-a-upid/status", nil)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "unable to parse worker upid 'not-a-upid'\n", a.env.Errors["upid"])
}

func TestContractStopTask(t *testing.T) {
	s := newSim(t, pvesim.WithTaskDuration(time.Minute))
	upid := s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100"}))
	a := s.call("DELETE", "/nodes/pve/tasks/"+upid, nil)
	require.Equal(t, http.StatusOK, a.status)
	exit, _ := s.waitTask(upid)
	require.Equal(t, "received interrupt", exit)

	var list []map[string]any
	s.call("GET", "/nodes/pve/tasks", map[string]string{"typefilter": "qmcreate"}).data(t, &list)
	require.Len(t, list, 1)
	require.Equal(t, upid, list[0]["upid"])
	require.Equal(t, "received interrupt", list[0]["status"])
}

func TestContractClusterEndpoints(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 100, Name: "existing", Tags: "Prod;web"}, {VMID: 9000, Name: "tmpl", Template: true}}
	s := newSim(t, pvesim.WithSetup(setup))

	var next string
	s.call("GET", "/cluster/nextid", nil).data(t, &next)
	require.Equal(t, "101", next, "nextid answers a string")

	a := s.call("GET", "/cluster/nextid", map[string]string{"vmid": "100"})
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "VM 100 already exists\n", a.env.Errors["vmid"])
	s.call("GET", "/cluster/nextid", map[string]string{"vmid": "200"}).data(t, &next)
	require.Equal(t, "200", next)

	var res []map[string]any
	s.call("GET", "/cluster/resources", map[string]string{"type": "vm"}).data(t, &res)
	require.Len(t, res, 2)
	require.Equal(t, "qemu/100", res[0]["id"])
	require.Equal(t, "qemu", res[0]["type"])
	require.EqualValues(t, 100, res[0]["vmid"])
	require.Equal(t, "pve", res[0]["node"])
	require.Equal(t, "prod;web", res[0]["tags"], "tags are stored lower-cased and sorted")
	require.EqualValues(t, 0, res[0]["template"])
	require.EqualValues(t, 1, res[1]["template"])

	var nodes []map[string]any
	s.call("GET", "/nodes", nil).data(t, &nodes)
	require.Len(t, nodes, 1)
	require.Equal(t, "online", nodes[0]["status"])
	require.EqualValues(t, 12, nodes[0]["maxcpu"])
	require.Equal(t, s.Fingerprint(), nodes[0]["ssl_fingerprint"])

	var status []map[string]any
	s.call("GET", "/cluster/status", nil).data(t, &status)
	require.Len(t, status, 1)
	require.Equal(t, "node", status[0]["type"])

	var bridges []map[string]any
	s.call("GET", "/nodes/pve/network", map[string]string{"type": "any_bridge"}).data(t, &bridges)
	require.Equal(t, "vmbr0", bridges[0]["iface"])

	a = s.call("GET", "/nodes/other/network", nil)
	require.Equal(t, http.StatusInternalServerError, a.status)
	require.True(t, strings.HasPrefix(a.env.Message, "hostname lookup 'other' failed"))
}

func TestContractPCIMappings(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.PCIMappings = []pvesim.PCIMapping{{ID: "rtx4000", Path: "0000:07:00", DeviceID: "10de:27b0"}}
	s := newSim(t, pvesim.WithSetup(setup))
	var list []struct {
		ID  string   `json:"id"`
		Map []string `json:"map"`
	}
	s.call("GET", "/cluster/mapping/pci", nil).data(t, &list)
	require.Len(t, list, 1)
	require.Equal(t, "rtx4000", list[0].ID)
	require.Contains(t, list[0].Map[0], "path=0000:07:00")
	require.Contains(t, list[0].Map[0], "node=pve")
}

func TestUPIDsParse(t *testing.T) {
	s := newSim(t)
	for i := 0; i < 3; i++ {
		upid := s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "10" + string(rune('0'+i))}))
		u, err := pve.ParseUPID(upid)
		require.NoError(t, err)
		require.Equal(t, upid, u.String())
	}
}

// TestContractEmptyTaskLog pins pve-common src/PVE/Tools.pm,
// dump_logfile_by_filehandle, which the tasks log API (pve-manager
// PVE/API2/Tasks.pm, read_task_log) answers with: a log with no line yet
// is [{n:1, t:"no content"}] with total 1 ("HACK: ExtJS
// store.guaranteeRange() does not like empty array"), whatever start asks.
func TestContractEmptyTaskLog(t *testing.T) {
	s := newSim(t, pvesim.WithTaskDuration(time.Hour))
	upid := s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100"}))
	for _, start := range []string{"0", "3"} {
		a := s.call("GET", "/nodes/pve/tasks/"+upid+"/log", map[string]string{"start": start, "limit": "0"})
		var lines []map[string]any
		a.data(t, &lines)
		require.Equal(t, []map[string]any{{"n": float64(1), "t": "no content"}}, lines, "start=%s", start)
		require.NotNil(t, a.env.Total)
		require.Equal(t, 1, *a.env.Total)
	}
}
