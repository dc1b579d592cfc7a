package pvesim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// destroyVM answers DELETE .../qemu/{vmid}: refuses a template whose base
// volumes linked clones use, then removes the VM in a qmdestroy task.
func destroyVM(s *Server, w *world, r *request) (any, error) {
	v, err := w.writableVM(r)
	if err != nil {
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

// vmStatus answers GET .../qemu/{vmid}/status/current; simulated VMs are
// always stopped.
func vmStatus(_ *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	out := w.vmSummary(v, false)
	out["qmpstatus"] = "stopped"
	out["ha"] = map[string]any{"managed": 0}
	return out, nil
}

// convertToTemplate answers POST .../qemu/{vmid}/template: renames the VM's
// disks to base volumes in a qmtemplate task.
func convertToTemplate(s *Server, w *world, r *request) (any, error) {
	v, err := w.writableVM(r)
	if err != nil {
		return nil, err
	}
	if v.isTemplate() {
		return nil, failed("you can't convert a template to a template")
	}
	v.lock = "template"
	vmid := v.vmid
	return s.startTaskLocked(r.who.id, "qmtemplate", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		for _, k := range v.conf.disks() {
			val, _ := v.conf.get(k)
			ps, _ := pve.ParsePropertyString(val, "file")
			if ps == nil || ps.Value("media") == "cdrom" || strings.HasPrefix(k, "unused") {
				continue
			}
			st, vol, ok := w.findVolume(ps.Value("file"))
			if !ok || !strings.Contains(vol.name, fmt.Sprintf("vm-%d-disk-", vmid)) {
				continue
			}
			delete(st.volumes, vol.name)
			vol.name = strings.Replace(vol.name, fmt.Sprintf("vm-%d-disk-", vmid), fmt.Sprintf("base-%d-disk-", vmid), 1)
			st.volumes[vol.name] = vol
			ps.Set("file", st.ID+":"+vol.name)
			v.conf.set(k, ps.String())
			log.printfLocked("renamed disk %s to %s:%s", k, st.ID, vol.name)
		}
		v.conf.set("template", "1")
		v.lock = ""
		return nil
	}), w.lockedUndo(func() {
		v.lock = ""
	})), nil
}
