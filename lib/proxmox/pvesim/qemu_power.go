package pvesim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// runState is a running VM's QEMU process.
type runState struct {
	pid     uint32
	started time.Time
	booted  time.Time // when the guest OS is up: it reacts to ACPI, its agent answers
	machine string    // the running machine type
}

// qemuVersion is the QEMU version running VMs report.
const qemuVersion = "9.2.0"

// running reports whether the VM's QEMU process runs.
func (v *vm) running() bool { return v.run != nil }

// guestUp reports whether the VM runs and its guest OS has booted.
func (v *vm) guestUp() bool { return v.run != nil && !time.Now().Before(v.run.booted) }

// powerOn starts the VM's QEMU process: pending changes are applied first,
// as vm_start_nolock does. Caller holds the lock.
func (w *world) powerOn(v *vm, bootDelay time.Duration, log taskLog) {
	v.applyPending(w)
	if v.hasCloudinitDrive() {
		log.printfLocked("generating cloud-init ISO")
	}
	v.regenerateCloudinit()
	machine := "pc-i440fx-9.2+pve1"
	if m, _ := v.conf.get("machine"); strings.Contains(m, "q35") {
		machine = "pc-q35-9.2+pve1"
	}
	now := time.Now()
	v.run = &runState{pid: w.nextPID(), started: now, booted: now.Add(bootDelay), machine: machine}
}

// missingConfig is assert_config_exists_on_node's message, which
// check_running dies with for a VM that does not exist.
func (w *world) missingConfig(vmid int) string {
	return fmt.Sprintf("unable to find configuration file for VM %d on node '%s'", vmid, w.node)
}

// startVM answers POST .../status/start: a qmstart task whose worker does
// every check (vm_start): the config exists, not a template, not locked,
// not running.
func startVM(s *Server, w *world, r *request) (any, error) {
	if err := rootOnlyParams(r, "stateuri", "skiplock", "migratedfrom", "migration_type", "migration_network",
		"targetstorage", "force-cpu", "with-conntrack-state", "nets-host-mtu"); err != nil {
		return nil, err
	}
	vmid, _ := strconv.Atoi(r.param("vmid"))
	skiplock := r.param("skiplock") == "1"
	return s.startTaskLocked(r.who.id, "qmstart", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		return s.startWork(w, vmid, skiplock, log)
	})), nil
}

// startWork is vm_start's worker. Caller holds the lock.
func (s *Server) startWork(w *world, vmid int, skiplock bool, log taskLog) error {
	v, ok := w.vms[vmid]
	if !ok {
		//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
		return fmt.Errorf("Configuration file '%s' does not exist", w.vmPath(vmid))
	}
	if v.isTemplate() {
		return errors.New("you can't start a vm if it's a template")
	}
	if v.lock != "" && !skiplock && v.lock != "suspended" {
		return fmt.Errorf("VM is locked (%s)", v.lock)
	}
	if v.running() {
		return fmt.Errorf("VM %d already running", vmid)
	}
	w.powerOn(v, s.bootDelay, log)
	return nil
}

// stopVM answers POST .../status/stop: a qmstop task that ends the QEMU
// process at once (vm_stop with $shutdown = 0); a stopped VM is a no-op.
func stopVM(s *Server, w *world, r *request) (any, error) {
	if err := rootOnlyParams(r, "skiplock", "keepActive", "migratedfrom"); err != nil {
		return nil, err
	}
	vmid, _ := strconv.Atoi(r.param("vmid"))
	skiplock, overrule := r.param("skiplock") == "1", r.param("overrule-shutdown") == "1"
	return s.startTaskLocked(r.who.id, "qmstop", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		if overrule {
			if aborted := w.abortTasks("qmshutdown", vmid); len(aborted) > 0 {
				log.printfLocked("overruled qmshutdown tasks: %s", strings.Join(aborted, ", "))
			}
		}
		v, err := w.runningVM(vmid, skiplock)
		if err != nil || v == nil {
			return err
		}
		v.run = nil
		return nil
	})), nil
}

// runningVM is the start of _do_vm_stop: the VM must exist; nil (and no
// error) when it is not running; a locked VM is refused unless skiplock.
// Caller holds the lock.
func (w *world) runningVM(vmid int, skiplock bool) (*vm, error) {
	v, ok := w.vms[vmid]
	if !ok {
		return nil, errors.New(w.missingConfig(vmid))
	}
	if !v.running() {
		return nil, nil
	}
	if v.lock != "" && !skiplock {
		return nil, fmt.Errorf("VM is locked (%s)", v.lock)
	}
	return v, nil
}

// abortTasks stops the running tasks of a type for a VM and returns their
// UPIDs (GuestHelpers::abort_guest_tasks). Caller holds the lock.
func (w *world) abortTasks(typ string, vmid int) []string {
	var out []string
	for _, id := range w.order {
		t := w.tasks[id]
		if t.running && t.upid.Type == typ && t.upid.ID == strconv.Itoa(vmid) {
			t.cancel()
			out = append(out, id)
		}
	}
	return out
}

// shutdownVM answers POST .../status/shutdown: a qmshutdown task that asks
// the guest to power off and waits up to timeout seconds (default 60, or
// the startup "down" value), then terminates it with forceStop or fails.
func shutdownVM(s *Server, w *world, r *request) (any, error) {
	if err := rootOnlyParams(r, "skiplock", "keepActive"); err != nil {
		return nil, err
	}
	vmid, _ := strconv.Atoi(r.param("vmid"))
	timeout := -1
	if r.has("timeout") {
		timeout, _ = strconv.Atoi(r.param("timeout"))
	}
	skiplock, force := r.param("skiplock") == "1", r.param("forceStop") == "1"
	return s.startTaskLocked(r.who.id, "qmshutdown", strconv.Itoa(vmid), func(ctx context.Context, log taskLog) error {
		return s.shutdownWork(ctx, log, vmid, skiplock, timeout, force)
	}), nil
}

// shutdownWork is _do_vm_stop with $shutdown = 1: the guest powers off
// once it has booted; the worker checks once a second for timeout seconds
// ($count < $timeout, so a timeout of 0 never waits). A negative timeout
// means the default.
func (s *Server) shutdownWork(ctx context.Context, log taskLog, vmid int, skiplock bool, timeout int, force bool) error {
	w := s.world
	w.mu.Lock()
	v, err := w.runningVM(vmid, skiplock)
	if err != nil || v == nil {
		w.mu.Unlock()
		return err
	}
	if timeout < 0 {
		timeout = startupDown(v)
	}
	w.mu.Unlock()
	for count := 0; count < timeout; count++ {
		w.mu.Lock()
		if v.guestUp() {
			v.run = nil // the guest powered off
		}
		run := v.run
		w.mu.Unlock()
		if run == nil {
			return nil
		}
		wait := time.Second
		if d := time.Until(run.booted); d > 0 && d < wait {
			wait = d
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !v.running() {
		return nil
	}
	if !force {
		return errors.New("VM quit/powerdown failed - got timeout")
	}
	log.printfLocked("VM still running - terminating now with SIGTERM")
	v.run = nil
	return nil
}

// startupDown is the shutdown timeout: the "down" value of the VM's
// startup option, else 60 seconds.
func startupDown(v *vm) int {
	if st, ok := v.conf.get("startup"); ok {
		if ps, err := pve.ParsePropertyString(st, "order"); err == nil {
			if n, err := strconv.Atoi(ps.Value("down")); err == nil && n > 0 {
				return n
			}
		}
	}
	return 60
}

// rebootVM answers POST .../status/reboot: refused synchronously unless
// running; a qmreboot task shuts the guest down (vm_reboot), then
// qmeventd's cleanup starts it again in a qmstart task of root@pam, which
// applies pending changes.
func rebootVM(s *Server, w *world, r *request) (any, error) {
	v, err := w.runningOrRefuse(r)
	if err != nil {
		return nil, err
	}
	vmid := v.vmid
	timeout := -1
	if r.has("timeout") {
		timeout, _ = strconv.Atoi(r.param("timeout"))
	}
	return s.startTaskLocked(r.who.id, "qmreboot", strconv.Itoa(vmid), func(ctx context.Context, log taskLog) error {
		w.mu.Lock()
		v, ok := w.vms[vmid]
		running := ok && v.running()
		w.mu.Unlock()
		if !running {
			return nil // "only reboot if running"
		}
		if err := s.shutdownWork(ctx, log, vmid, false, timeout, false); err != nil {
			return err
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		s.startTaskLocked("root@pam", "qmstart", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
			return s.startWork(w, vmid, false, log)
		}))
		return nil
	}), nil
}

// runningOrRefuse is the synchronous check of vm_reset and vm_reboot:
// check_running, "VM <id> not running". Caller holds the lock.
func (w *world) runningOrRefuse(r *request) (*vm, error) {
	vmid, _ := strconv.Atoi(r.param("vmid"))
	v, ok := w.vms[vmid]
	if !ok {
		return nil, failed("%s", w.missingConfig(vmid))
	}
	if !v.running() {
		return nil, failed("VM %d not running", vmid)
	}
	return v, nil
}

// resetVM answers POST .../status/reset: a qmreset task (QMP system_reset):
// the same QEMU process, the guest boots again.
func resetVM(s *Server, w *world, r *request) (any, error) {
	if err := rootOnlyParams(r, "skiplock"); err != nil {
		return nil, err
	}
	v, err := w.runningOrRefuse(r)
	if err != nil {
		return nil, err
	}
	vmid, skiplock := v.vmid, r.param("skiplock") == "1"
	return s.startTaskLocked(r.who.id, "qmreset", strconv.Itoa(vmid), w.lockedWork(func(_ taskLog) error {
		v, ok := w.vms[vmid]
		if !ok {
			//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
			return fmt.Errorf("Configuration file '%s' does not exist", w.vmPath(vmid))
		}
		if v.lock != "" && !skiplock {
			return fmt.Errorf("VM is locked (%s)", v.lock)
		}
		if v.running() {
			v.run.booted = time.Now().Add(s.bootDelay)
		}
		return nil
	})), nil
}

// agentEnabled reports whether the config enables the guest agent
// (get_qga_key $conf, 'enabled').
func (v *vm) agentEnabled() bool {
	val, ok := v.conf.get("agent")
	if !ok {
		return false
	}
	ps, err := pve.ParsePropertyString(val, "enabled")
	return err == nil && (ps.Value("enabled") == "1" || ps.Value("enabled") == "true")
}
