package pvesim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// vmBase is the path of VM 100 on node pve.
const vmBase = "/nodes/pve/qemu/100"

// limitedAuth authenticates as the token withToken adds.
const limitedAuth = "PVEAPIToken=infra@pve!audit=audit"

// withToken is DefaultSetup with a token infra@pve!audit that holds role
// on / (and propagated).
func withToken(role string) pvesim.Setup {
	setup := pvesim.DefaultSetup()
	setup.Tokens = append(setup.Tokens, pvesim.Token{ID: "infra@pve!audit", Secret: "audit",
		ACL: []pvesim.ACL{{Path: "/", Role: role, Propagate: true}}})
	return setup
}

// powerSim is a simulator with VM 100: a disk, a NIC, the guest agent on and
// cloud-init network settings, stopped.
func powerSim(t *testing.T, opts ...pvesim.Option) *sim {
	t.Helper()
	s := newSim(t, opts...)
	exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{
		"vmid": "100", "name": "web", "memory": "2048", "cores": "2", "scsihw": "virtio-scsi-single",
		"scsi0": "local-zfs:8", "ide2": "local-zfs:cloudinit", "net0": "model=virtio,macaddr=BC:24:11:00:00:01,bridge=vmbr0",
		"agent": "enabled=1", "ipconfig0": "ip=192.168.1.50/24,gw=192.168.1.1", "ciuser": "admin",
	})))
	require.Equal(t, "OK", exit, log)
	return s
}

// power runs a power action on VM 100 and returns the task's exit status
// and log.
func (s *sim) power(action string, params map[string]string) (string, []string) {
	s.t.Helper()
	return s.waitTask(s.upid(s.call("POST", vmBase+"/status/"+action, params)))
}

// status is VM 100's status/current.
func (s *sim) status() map[string]any {
	s.t.Helper()
	var st map[string]any
	s.call("GET", vmBase+"/status/current", nil).data(s.t, &st)
	return st
}

// requireRunning starts VM 100 and checks that the start succeeded.
func (s *sim) requireRunning() {
	s.t.Helper()
	exit, log := s.power("start", nil)
	require.Equal(s.t, "OK", exit, log)
	require.Equal(s.t, "running", s.status()["status"])
}

// TestContractPowerStartStop pins the running state as qemu-server reports
// it: src/PVE/API2/Qemu.pm vm_start/vm_stop fork "qmstart"/"qmstop" workers
// with the VM ID as task ID; src/PVE/QemuServer.pm vmstatus reports
// status running/stopped, pid only while running, uptime, and (full, as
// status/current asks) qmpstatus from QMP query-status (the status when not
// running), running-machine and running-qemu; vm_status adds agent=1 when
// the agent is enabled.
func TestContractPowerStartStop(t *testing.T) {
	s := powerSim(t)
	st := s.status()
	require.Equal(t, "stopped", st["status"])
	require.Equal(t, "stopped", st["qmpstatus"])
	require.NotContains(t, st, "pid")
	require.EqualValues(t, 1, st["agent"])

	upid := s.upid(s.call("POST", vmBase+"/status/start", nil))
	require.Contains(t, upid, ":qmstart:100:root@pam!infra:")
	exit, log := s.waitTask(upid)
	require.Equal(t, "OK", exit, log)
	// vm_start_nolock -> apply_cloudinit_config -> commit_cloudinit_disk.
	require.Equal(t, []string{"generating cloud-init ISO", "TASK OK"}, log)

	st = s.status()
	require.Equal(t, "running", st["status"])
	require.Equal(t, "running", st["qmpstatus"])
	require.Greater(t, st["pid"], float64(0))
	require.Contains(t, st, "uptime")
	require.Regexp(t, `^pc-q35-|^pc-i440fx-`, st["running-machine"])
	require.Regexp(t, `^\d+\.\d+\.\d+$`, st["running-qemu"])
	require.Equal(t, map[string]any{"managed": float64(0)}, st["ha"])
	for _, k := range []string{"memhost", "netin", "netout", "diskread", "diskwrite"} {
		require.Contains(t, st, k, "vmstatus reports %s for a running VM", k)
	}

	var list []map[string]any
	s.call("GET", "/nodes/pve/qemu", nil).data(t, &list)
	require.Len(t, list, 1)
	require.Equal(t, "running", list[0]["status"], "the VM list carries the live state")
	require.Equal(t, st["pid"], list[0]["pid"])

	upid = s.upid(s.call("POST", vmBase+"/status/stop", nil))
	require.Contains(t, upid, ":qmstop:100:")
	exit, log = s.waitTask(upid)
	require.Equal(t, "OK", exit, log)
	st = s.status()
	require.Equal(t, "stopped", st["status"])
	require.NotContains(t, st, "pid")
	require.EqualValues(t, 0, st["uptime"])
}

// TestContractPowerRefusals pins where PVE refuses a power action and how
// (a synchronous 500, or a task that fails), and where it does nothing.
func TestContractPowerRefusals(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(s *sim)
		method  string
		vmid    string // default 100
		path    string
		params  map[string]string
		status  int    // synchronous answer; 200 means a task
		msg     string // the 500's message or the task's exit status
		param   string // the 400's parameter
	}{
		// QemuServer.pm vm_start: the template check is inside the worker.
		{name: "start a template", prepare: func(s *sim) { s.template() }, method: "POST", path: "/status/start",
			status: http.StatusOK, msg: "you can't start a vm if it's a template"},
		// QemuServer.pm vm_start: "VM $vmid already running" inside the worker.
		{name: "start a running VM", prepare: (*sim).requireRunning, method: "POST", path: "/status/start",
			status: http.StatusOK, msg: "VM 100 already running"},
		// QemuServer.pm vm_start: check_lock inside the worker.
		{name: "start a locked VM", prepare: func(s *sim) { s.HoldLock(100, "backup") }, method: "POST", path: "/status/start",
			status: http.StatusOK, msg: "VM is locked (backup)"},
		// API2/Qemu.pm vm_start does not load the config: the worker's
		// load_config fails.
		{name: "start a missing VM", method: "POST", path: "/status/start", vmid: "999",
			status: http.StatusOK, msg: "Configuration file 'nodes/pve/qemu-server/999.conf' does not exist"},
		// QemuServer.pm _do_vm_stop: "return if !$pid" - a no-op task.
		{name: "stop a stopped VM", method: "POST", path: "/status/stop", status: http.StatusOK, msg: "OK"},
		{name: "shut down a stopped VM", method: "POST", path: "/status/shutdown", status: http.StatusOK, msg: "OK"},
		// QemuServer.pm check_running -> QemuConfig.pm assert_config_exists_on_node
		// inside the worker.
		{name: "stop a missing VM", method: "POST", path: "/status/stop", vmid: "999",
			status: http.StatusOK, msg: "unable to find configuration file for VM 999 on node 'pve'"},
		// QemuServer.pm _do_vm_stop: check_lock once it knows the VM runs.
		{name: "shut down a locked running VM", prepare: func(s *sim) { s.requireRunning(); s.HoldLock(100, "backup") },
			method: "POST", path: "/status/shutdown", status: http.StatusOK, msg: "VM is locked (backup)"},
		// API2/Qemu.pm vm_reset and vm_reboot: "VM $vmid not running" before the worker.
		{name: "reset a stopped VM", method: "POST", path: "/status/reset", status: http.StatusInternalServerError, msg: "VM 100 not running"},
		{name: "reboot a stopped VM", method: "POST", path: "/status/reboot", status: http.StatusInternalServerError, msg: "VM 100 not running"},
		{name: "reset a missing VM", method: "POST", path: "/status/reset", vmid: "999",
			status: http.StatusInternalServerError, msg: "unable to find configuration file for VM 999 on node 'pve'"},
		// API2/Qemu.pm destroy_vm: $early_checks before the worker.
		{name: "destroy a running VM", prepare: (*sim).requireRunning, method: "DELETE", path: "",
			status: http.StatusInternalServerError, msg: "VM 100 is running - destroy failed"},
		// API2/Qemu.pm template: $load_and_check before the worker.
		{name: "template a running VM", prepare: (*sim).requireRunning, method: "POST", path: "/template",
			status: http.StatusInternalServerError, msg: "you can't convert a VM to template if VM is running"},
		// API2/Qemu.pm vm_start/vm_stop/vm_shutdown: root-only options.
		{name: "skiplock as a token", method: "POST", path: "/status/start", params: map[string]string{"skiplock": "1"},
			status: http.StatusBadRequest, param: "skiplock", msg: "Only root may use this option."},
		{name: "keepActive as a token", method: "POST", path: "/status/shutdown", params: map[string]string{"keepActive": "1"},
			status: http.StatusBadRequest, param: "keepActive", msg: "Only root may use this option."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := powerSim(t)
			if tt.prepare != nil {
				tt.prepare(s)
			}
			vmid := "100"
			if tt.vmid != "" {
				vmid = tt.vmid
			}
			a := s.call(tt.method, "/nodes/pve/qemu/"+vmid+tt.path, tt.params)
			require.Equal(t, tt.status, a.status, a.body)
			switch tt.status {
			case http.StatusOK:
				exit, _ := s.waitTask(s.upid(a))
				require.Equal(t, tt.msg, exit)
			case http.StatusBadRequest:
				require.Equal(t, tt.msg+"\n", a.env.Errors[tt.param])
			default:
				require.Equal(t, tt.msg, a.reason)
			}
		})
	}
}

// template converts VM 100 to a template.
func (s *sim) template() {
	s.t.Helper()
	exit, log := s.waitTask(s.upid(s.call("POST", vmBase+"/template", nil)))
	require.Equal(s.t, "OK", exit, log)
}

// TestContractPowerNeedsPowerMgmt pins the schema's permission of the power
// methods: VM.PowerMgmt on /vms/{vmid} (API2/Qemu.pm vm_start, vm_stop,
// vm_shutdown, vm_reboot, vm_reset).
func TestContractPowerNeedsPowerMgmt(t *testing.T) {
	s := powerSim(t, pvesim.WithSetup(withToken("PVEAuditor")))
	s.auth = limitedAuth
	for _, action := range []string{"start", "stop", "shutdown", "reboot", "reset"} {
		a := s.call("POST", vmBase+"/status/"+action, nil)
		require.Equal(t, http.StatusForbidden, a.status, action)
		require.Equal(t, "Permission check failed (/vms/100, VM.PowerMgmt)", a.reason, action)
	}
}

// TestContractPowerShutdown pins vm_shutdown as QemuServer.pm _do_vm_stop
// runs it: the guest gets an ACPI power-button event (or guest-shutdown
// through a running agent) and the worker waits up to timeout seconds; then
// forceStop terminates QEMU with a plain warn line (not counted as a task
// warning) and the task is OK, and without it the task fails "VM
// quit/powerdown failed - got timeout". A timeout of 0 times out at once
// ("$count >= $timeout" with no wait). The simulated guest reacts once it
// has booted (WithGuestBootDelay).
func TestContractPowerShutdown(t *testing.T) {
	tests := []struct {
		name    string
		boot    time.Duration
		params  map[string]string
		exit    string
		log     string
		running bool
	}{
		{name: "booted guest powers off", params: map[string]string{"timeout": "30"}, exit: "OK"},
		{name: "default timeout", exit: "OK"},
		{name: "booting guest ignores ACPI", boot: time.Hour, params: map[string]string{"timeout": "1"},
			exit: "VM quit/powerdown failed - got timeout", running: true},
		{name: "forceStop after the timeout", boot: time.Hour, params: map[string]string{"timeout": "0", "forceStop": "1"},
			exit: "OK", log: "VM still running - terminating now with SIGTERM"},
		{name: "timeout 0 always times out", params: map[string]string{"timeout": "0"},
			exit: "VM quit/powerdown failed - got timeout", running: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := powerSim(t, pvesim.WithGuestBootDelay(tt.boot))
			s.requireRunning()
			upid := s.upid(s.call("POST", vmBase+"/status/shutdown", tt.params))
			require.Contains(t, upid, ":qmshutdown:100:")
			exit, log := s.waitTask(upid)
			require.Equal(t, tt.exit, exit, log)
			if tt.log != "" {
				require.Contains(t, log, tt.log)
			}
			want := "stopped"
			if tt.running {
				want = "running"
			}
			require.Equal(t, want, s.status()["status"])
		})
	}
}

// TestContractPowerPendingWhileRunning pins what a config change does to a
// running VM (API2/Qemu.pm update_vm_api writes every change to [PENDING],
// then QemuServer.pm vmconfig_hotplug_pending applies what can change live
// with the default hotplug "network,disk,usb"): name, tags and the
// cloud-init options ($fast_plug_option) apply at once; cores and memory
// (no cpu/memory hotplug) stay pending, shown by GET config (pending values
// applied unless current=1) and GET pending; a reboot applies them
// (vm_reboot stops the VM, qmeventd's "qm cleanup" starts it again with
// vm_start, which runs vmconfig_apply_pending). A disk resize acts on the
// running VM directly (API2/Qemu.pm resize_vm, qemu_block_resize).
func TestContractPowerPendingWhileRunning(t *testing.T) {
	s := powerSim(t)
	s.requireRunning()
	pid := s.status()["pid"]

	a := s.call("PUT", vmBase+"/config", map[string]string{"cores": "4", "memory": "4096", "name": "web2",
		"tags": "prod", "ipconfig0": "ip=192.168.1.51/24,gw=192.168.1.1"})
	require.Equal(t, http.StatusOK, a.status, a.body)

	cfg := s.config("100")
	require.EqualValues(t, 4, cfg["cores"], "GET config shows pending values")
	require.Equal(t, "4096", cfg["memory"])
	cur := s.currentConfig()
	require.EqualValues(t, 2, cur["cores"], "cores has no hotplug: pending")
	require.Equal(t, "2048", cur["memory"], "memory hotplug is off by default: pending")
	require.Equal(t, "web2", cur["name"], "name is a fast-plug option")
	require.Equal(t, "prod", cur["tags"])
	require.Equal(t, "ip=192.168.1.51/24,gw=192.168.1.1", cur["ipconfig0"], "cloud-init options are fast-plug")

	var pending []map[string]any
	s.call("GET", vmBase+"/pending", nil).data(t, &pending)
	byKey := map[string]map[string]any{}
	for _, p := range pending {
		byKey[p["key"].(string)] = p
	}
	require.EqualValues(t, 2, byKey["cores"]["value"])
	require.EqualValues(t, 4, byKey["cores"]["pending"])
	require.Equal(t, "2048", byKey["memory"]["value"])
	require.Equal(t, "4096", byKey["memory"]["pending"])
	require.NotContains(t, byKey["name"], "pending")
	require.Equal(t, cfg["digest"], byKey["digest"]["value"], "the parsed config's digest is listed too")

	// Sending the pending value again changes nothing (cleanup_pending).
	a = s.call("PUT", vmBase+"/config", map[string]string{"cores": "4"})
	require.Equal(t, http.StatusOK, a.status, a.body)

	exit, log := s.waitTask(s.upid(s.call("PUT", vmBase+"/resize", map[string]string{"disk": "scsi0", "size": "+2G"})))
	require.Equal(t, "OK", exit, log)
	cur = s.currentConfig()
	require.Contains(t, cur["scsi0"], "size=10G", "resize acts on the running VM")

	upid := s.upid(s.call("POST", vmBase+"/status/reboot", nil))
	require.Contains(t, upid, ":qmreboot:100:")
	exit, log = s.waitTask(upid)
	require.Equal(t, "OK", exit, log)
	start := s.lastTask("qmstart")
	require.Contains(t, start, ":root@pam:", "qmeventd restarts the VM as root@pam")
	exit, log = s.waitTask(start)
	require.Equal(t, "OK", exit, log)

	st := s.status()
	require.Equal(t, "running", st["status"])
	require.NotEqual(t, pid, st["pid"], "a reboot is a new QEMU process")
	cur = s.currentConfig()
	require.EqualValues(t, 4, cur["cores"], "the reboot applied the pending change")
	require.Equal(t, "4096", cur["memory"])
	var after []map[string]any
	s.call("GET", vmBase+"/pending", nil).data(t, &after)
	for _, p := range after {
		require.NotContains(t, p, "pending", "nothing is pending after the reboot")
	}
}

// lastTask is the UPID of the newest task of a type.
func (s *sim) lastTask(typ string) string {
	s.t.Helper()
	var tasks []map[string]any
	s.call("GET", "/nodes/pve/tasks", map[string]string{"typefilter": typ, "limit": "1"}).data(s.t, &tasks)
	require.NotEmpty(s.t, tasks, "no %s task", typ)
	return tasks[0]["upid"].(string)
}

// TestContractPowerTerraformDestroy runs what Terraform's bpg provider sends
// to destroy a started VM (shared/reference/tools.md): status/shutdown with
// forceStop, DELETE with purge and destroy-unreferenced-disks, then
// status/current until it errors (load_config's 500).
func TestContractPowerTerraformDestroy(t *testing.T) {
	s := powerSim(t)
	s.requireRunning()
	exit, log := s.power("shutdown", map[string]string{"forceStop": "1", "timeout": "1800"})
	require.Equal(t, "OK", exit, log)
	exit, log = s.waitTask(s.upid(s.call("DELETE", vmBase, map[string]string{"purge": "1", "destroy-unreferenced-disks": "1"})))
	require.Equal(t, "OK", exit, log)
	a := s.call("GET", vmBase+"/status/current", nil)
	require.Equal(t, http.StatusInternalServerError, a.status)
	require.Equal(t, "Configuration file 'nodes/pve/qemu-server/100.conf' does not exist", a.reason)
}

// TestContractPowerReset pins vm_reset: a qmreset task on a running VM
// (QMP system_reset: same QEMU process, the guest boots again).
func TestContractPowerReset(t *testing.T) {
	s := powerSim(t)
	s.requireRunning()
	pid := s.status()["pid"]
	upid := s.upid(s.call("POST", vmBase+"/status/reset", nil))
	require.Contains(t, upid, ":qmreset:100:")
	exit, log := s.waitTask(upid)
	require.Equal(t, "OK", exit, log)
	st := s.status()
	require.Equal(t, "running", st["status"])
	require.Equal(t, pid, st["pid"], "a reset keeps the QEMU process")
}

// currentConfig is VM 100's config without its pending changes.
func (s *sim) currentConfig() map[string]any {
	s.t.Helper()
	var cfg map[string]any
	s.call("GET", vmBase+"/config", map[string]string{"current": "1"}).data(s.t, &cfg)
	return cfg
}

// TestContractPowerHotplugOptions pins which options vmconfig_hotplug_pending
// (QemuServer.pm) applies to a running VM with the default hotplug
// "network,disk,usb", and which wait for the next start. For disks
// (vmconfig_update_disk): the same volume with a changed aio, discard,
// iothread, queues, product, cache, ssd, vendor or ro waits; other option
// changes (backup, throttling) apply live; a new SCSI disk is hotplugged,
// a new SATA disk is not; efidisk0 never is.
func TestContractPowerHotplugOptions(t *testing.T) {
	tests := []struct {
		name   string
		before map[string]string // set while stopped
		key    string
		value  string
		live   bool
	}{
		{name: "cores: no hotplug", key: "cores", value: "4", live: false},
		{name: "memory: no memory hotplug", key: "memory", value: "4096", live: false},
		{name: "memory with memory hotplug", before: map[string]string{"hotplug": "memory", "numa": "1"}, key: "memory", value: "4096", live: true},
		{name: "cpulimit: cgroup", key: "cpulimit", value: "2", live: true},
		{name: "description: fast plug", key: "description", value: "web server", live: true},
		{name: "a NIC with network hotplug", key: "net1", value: "model=virtio,bridge=vmbr0", live: true},
		{name: "a NIC without hotplug", before: map[string]string{"hotplug": "0"}, key: "net1", value: "model=virtio,bridge=vmbr0", live: false},
		{name: "tablet: usb", key: "tablet", value: "0", live: true},
		{name: "usb0 for a Linux guest", before: map[string]string{"ostype": "l26"}, key: "usb0", value: "host=spice", live: true},
		{name: "usb0 for another guest", before: map[string]string{"ostype": "other"}, key: "usb0", value: "host=spice", live: false},
		{name: "agent type: not live", key: "agent", value: "enabled=1,type=isa", live: false},
		{name: "agent fstrim: live", key: "agent", value: "enabled=1,fstrim_cloned_disks=1", live: true},
		{name: "bios", key: "bios", value: "ovmf", live: false},
		{name: "iothread on the same volume", key: "scsi0", value: "VOL,iothread=1,size=8G", live: false},
		{name: "backup off on the same volume", key: "scsi0", value: "VOL,backup=0,size=8G", live: true},
		{name: "a new SCSI disk", key: "scsi1", value: "local-zfs:2", live: true},
		{name: "a new SATA disk", key: "sata1", value: "local-zfs:2", live: false},
		{name: "an EFI disk", key: "efidisk0", value: "local-zfs:1,efitype=4m", live: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := powerSim(t)
			if tt.before != nil {
				s.setConfig(tt.before)
			}
			vol := strings.SplitN(s.config("100")["scsi0"].(string), ",", 2)[0]
			s.requireRunning()
			s.setConfig(map[string]string{tt.key: strings.Replace(tt.value, "VOL", vol, 1)})
			require.Contains(t, s.config("100"), tt.key, "GET config shows the pending value")
			require.Equal(t, tt.live, s.currentConfig()[tt.key] == s.config("100")[tt.key], "current %v, with pending %v",
				s.currentConfig()[tt.key], s.config("100")[tt.key])
		})
	}
}

// TestContractPowerRevertPending pins update_vm_api's revert: a pending
// value or deletion is dropped by writing the current value back; an
// option may not be reverted and set at once.
func TestContractPowerRevertPending(t *testing.T) {
	s := powerSim(t)
	s.requireRunning()
	s.setConfig(map[string]string{"cores": "4"})
	require.EqualValues(t, 4, s.config("100")["cores"])
	s.setConfig(map[string]string{"revert": "cores"})
	require.EqualValues(t, 2, s.config("100")["cores"], "the pending cores are gone")

	a := s.call("PUT", vmBase+"/config", map[string]string{"revert": "cores", "cores": "3"})
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "you can't use '-cores' and -revert cores' at the same time\n", a.env.Errors["delete"])
}

// TestContractPowerTerraformLifecycle runs the calls Terraform's bpg
// provider makes for a VM cloned from a template with started = true and
// the agent on (shared/reference/tools.md): clone, config, resize, start,
// agent/network-get-interfaces until an address shows, an update of cores
// and disk size (cores pending until the reboot bpg then asks for), and
// the destroy. Every answer but the final status/current is a 200.
func TestContractPowerTerraformLifecycle(t *testing.T) {
	s := newSim(t)
	steps := []struct {
		method, path string
		params       map[string]any
	}{
		{"POST", "/nodes/pve/qemu", map[string]any{"vmid": 9000, "name": "talos", "scsi0": "local-zfs:1", "ide2": "local-zfs:cloudinit",
			"net0": "model=virtio,bridge=vmbr0", "agent": "enabled=1", "memory": "2048", "cores": 2}},
		{"POST", "/nodes/pve/qemu/9000/template", nil},
		{"POST", "/nodes/pve/qemu/9000/clone", map[string]any{"newid": 100, "name": "node1", "full": false}},
		{"PUT", vmBase + "/config", map[string]any{"ipconfig0": "ip=10.10.2.21/24,gw=10.10.2.1", "ciuser": "talos", "cores": 2}},
		{"PUT", vmBase + "/resize", map[string]any{"disk": "scsi0", "size": "8G"}},
		{"POST", vmBase + "/status/start", map[string]any{"timeout": 1800}},
		{"GET", vmBase + "/agent/network-get-interfaces", nil},
		{"GET", vmBase + "/status/current", nil},
		{"PUT", vmBase + "/config", map[string]any{"cores": 4}},
		{"PUT", vmBase + "/resize", map[string]any{"disk": "scsi0", "size": "10G"}},
		{"POST", vmBase + "/status/reboot", map[string]any{"timeout": 1800}},
		{"GET", vmBase + "/status/current", nil},
		{"POST", vmBase + "/status/shutdown", map[string]any{"forceStop": true, "timeout": 1800}},
		{"DELETE", vmBase + "?purge=1&destroy-unreferenced-disks=1", nil},
	}
	for _, st := range steps {
		var a answer
		if st.method == "GET" || st.method == "DELETE" {
			a = s.call(st.method, st.path, nil)
		} else {
			a = s.callJSON(st.method, st.path, st.params)
		}
		require.Equal(t, http.StatusOK, a.status, "%s %s: %s", st.method, st.path, a.body)
		var upid string
		if json.Unmarshal(a.env.Data, &upid) == nil && strings.HasPrefix(upid, "UPID:") {
			exit, log := s.waitTask(upid)
			require.Equal(t, "OK", exit, "%s %s: %v", st.method, st.path, log)
		}
		switch st.path {
		case vmBase + "/agent/network-get-interfaces":
			require.Contains(t, string(a.env.Data), `"ip-address":"10.10.2.21"`)
		case vmBase + "/status/reboot":
			exit, log := s.waitTask(s.lastTask("qmstart"))
			require.Equal(t, "OK", exit, log)
			require.EqualValues(t, 4, s.status()["cpus"], "the reboot applied cores=4")
		}
	}
	a := s.call("GET", vmBase+"/status/current", nil)
	require.Equal(t, http.StatusInternalServerError, a.status)
}
