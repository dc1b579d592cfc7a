package pvesim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// destroyVM answers DELETE .../qemu/{vmid}: refuses a template whose base
// volumes linked clones use, then removes the VM in a qmdestroy task.
func destroyVM(s *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	if v.running() {
		return nil, failed("VM %d is running - destroy failed", v.vmid)
	}
	if err := v.checkLock(r); err != nil {
		return nil, err
	}
	for _, other := range w.vms {
		if other == v {
			continue
		}
		for _, k := range other.conf.disks() {
			val, _ := other.conf.get(k)
			if strings.Contains(val, fmt.Sprintf("base-%d-disk-", v.vmid)) {
				return nil, failed("base volume '%s' is still in use by linked cloned VM %d", strings.SplitN(val, "/", 2)[0], other.vmid)
			}
		}
	}
	v.lock = "destroyed"
	vmid := v.vmid
	return s.startTaskLocked(r.who.id, "qmdestroy", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		w.removeVM(vmid)
		if r.param("purge") == "1" {
			log.printfLocked("purging VM %d from related configurations..", vmid)
		}
		return nil
	}), w.lockedUndo(func() {
		if v, ok := w.vms[vmid]; ok {
			v.lock = ""
		}
	})), nil
}

// vmStatus answers GET .../qemu/{vmid}/status/current: vmstatus with
// $full, so a running VM adds QMP's qmpstatus, running-machine and
// running-qemu; agent=1 when the guest agent is enabled (vm_status).
func vmStatus(_ *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	out := w.vmSummary(v, false)
	out["qmpstatus"] = out["status"]
	out["memhost"], out["netin"], out["netout"] = out["mem"], 0, 0
	if v.running() {
		out["running-machine"] = v.run.machine
		out["running-qemu"] = qemuVersion
		out["diskread"], out["diskwrite"] = 0, 0
	}
	for _, k := range v.conf.keys {
		if strings.HasPrefix(k, "serial") {
			out["serial"] = 1
		}
	}
	if v.agentEnabled() {
		out["agent"] = 1
	}
	out["ha"] = map[string]any{"managed": 0}
	return out, nil
}

// convertToTemplate answers POST .../qemu/{vmid}/template as qemu-server
// does (src/PVE/API2/Qemu.pm, template): it checks the VM, then in a
// qmtemplate task, under the config file lock (a flock, not a config
// lock: other writers wait, here on the world's lock), checks again,
// writes template=1 and renames the disks to base volumes one by one
// (template_create). A failure part-way leaves template=1 and the disks
// not yet renamed.
func convertToTemplate(s *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	if err := v.templatable(r); err != nil {
		return nil, err
	}
	vmid, only := v.vmid, r.param("disk")
	return s.startTaskLocked(r.who.id, "qmtemplate", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		v, ok := w.vms[vmid]
		if !ok {
			//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
			return fmt.Errorf("Configuration file '%s' does not exist", w.vmPath(vmid))
		}
		if err := v.templatable(r); err != nil {
			return err
		}
		v.conf.set("template", "1")
		for _, k := range driveOrder(v.conf.disks()) {
			if only != "" && k != only {
				continue
			}
			val, _ := v.conf.get(k)
			ps, _ := pve.ParsePropertyString(val, "file")
			if ps == nil || ps.Value("media") == "cdrom" {
				continue
			}
			st, vol, ok := w.findVolume(ps.Value("file"))
			if !ok || !strings.HasPrefix(vol.name, fmt.Sprintf("vm-%d-disk-", vmid)) {
				continue
			}
			if err := log.failpoint(); err != nil {
				return err
			}
			st.renameToBase(vol, vmid)
			ps.Set("file", st.ID+":"+vol.name)
			v.conf.set(k, ps.String())
			log.printfLocked("renamed disk %s to %s:%s", k, st.ID, vol.name)
		}
		return nil
	})), nil
}

// templatable is qemu-server's load_and_check of the template call: the VM
// is not locked, not a template already (unless one disk is asked for) and
// not running.
func (v *vm) templatable(r *request) error {
	if err := v.checkLock(r); err != nil {
		return err
	}
	if v.isTemplate() && r.param("disk") == "" {
		return errors.New("you can't convert a template to a template")
	}
	if v.running() {
		return errors.New("you can't convert a VM to template if VM is running")
	}
	return nil
}
