package pvesim

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// createVM answers POST /nodes/{node}/qemu: checks synchronously, registers
// the VM locked "create", then allocates and imports disks in a qmcreate task.
func createVM(s *Server, w *world, r *request) (any, error) {
	vmid, _ := strconv.Atoi(r.param("vmid"))
	if r.has("archive") {
		return nil, &apiError{status: http.StatusNotImplemented, msg: "restore from 'archive' is not implemented by the simulator"}
	}
	if !w.can(r.who, fmt.Sprintf("/vms/%d", vmid), false, "VM.Allocate") &&
		!(r.param("pool") != "" && w.can(r.who, "/pool/"+r.param("pool"), false, "VM.Allocate")) {
		return nil, forbidden(fmt.Sprintf("/vms/%d", vmid), "VM.Allocate")
	}
	if _, exists := w.vms[vmid]; exists {
		return nil, failed("unable to create VM %d - VM %d already exists on node '%s'", vmid, vmid, w.node)
	}
	plans, err := w.planDisks(r, true)
	if err != nil {
		return nil, err
	}
	conf := newConfig()
	if err := w.applyOptions(r, conf, map[string]bool{"node": true, "vmid": true, "start": true, "unique": true, "force": true, "storage": true, "pool": true, "live-restore": true, "bwlimit": true}); err != nil {
		return nil, err
	}
	for _, p := range plans {
		if p.storage == nil {
			conf.set(p.key, p.ps.String())
		}
	}
	conf.set("meta", fmt.Sprintf("creation-qemu=9.2.0,ctime=%d", time.Now().Unix()))
	if _, ok := conf.get("smbios1"); !ok {
		conf.set("smbios1", "uuid="+uuid())
	}
	conf.set("vmgenid", uuid())
	if _, ok := conf.get("boot"); !ok {
		conf.set("boot", "order="+strings.Join(bootOrder(plans, conf), ";"))
	}
	v := &vm{vmid: vmid, conf: conf, lock: "create"}
	w.vms[vmid] = v
	upid := s.startTaskLocked(r.who.id, "qmcreate", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		for _, p := range plans {
			if p.storage == nil {
				continue
			}
			value := p.allocate(vmid)
			if p.source != "" {
				log.printfLocked("importing disk '%s' to VM %d ...", p.source, vmid)
				log.printfLocked("transferred %s of %s (100.00%%)", formatSize(p.size), formatSize(p.size))
				log.printfLocked("%s: successfully imported disk '%s'", p.key, p.ps.Value("file"))
			}
			conf.set(p.key, value)
		}
		v.lock = ""
		return nil
	}), w.lockedUndo(func() {
		w.removeVM(vmid)
	}))
	return upid, nil
}

// bootOrder is PVE's default: the disks and CD-ROMs, then the NICs.
func bootOrder(plans []*diskPlan, conf *config) []string {
	var order []string
	for _, p := range plans {
		if p.key != "efidisk0" && p.key != "tpmstate0" && !p.cloud {
			order = append(order, p.key)
		}
	}
	for i := 0; i < 32; i++ {
		if _, ok := conf.get(fmt.Sprintf("net%d", i)); ok {
			order = append(order, fmt.Sprintf("net%d", i))
		}
	}
	return order
}

// cloneVM answers POST .../qemu/{vmid}/clone: the clone is registered locked
// "create", then its disks are copied (full) or linked in a qmclone task.
func cloneVM(s *Server, w *world, r *request) (any, error) {
	src, err := w.writableVM(r)
	if err != nil {
		return nil, err
	}
	newid, _ := strconv.Atoi(r.param("newid"))
	if _, exists := w.vms[newid]; exists {
		return nil, failed("unable to create VM %d - VM %d already exists on node '%s'", newid, newid, w.node)
	}
	full := !src.isTemplate()
	if r.has("full") {
		full = r.param("full") == "1"
	}
	if !full && !src.isTemplate() {
		return nil, failed("Linked clone feature is not supported for a VM that is not a template")
	}
	if !full {
		for _, p := range []string{"storage", "format"} {
			if r.has(p) {
				return nil, failed("parameter '%s' not allowed for linked clones", p)
			}
		}
	}
	var target *storage
	if id := r.param("storage"); id != "" {
		if target, err = w.storage(id); err != nil {
			return nil, err
		}
		if !target.content["images"] {
			return nil, badParam("storage", fmt.Sprintf("storage '%s' does not support vm images", id))
		}
		if !w.can(r.who, "/storage/"+id, false, "Datastore.AllocateSpace") {
			return nil, forbidden("/storage/"+id, "Datastore.AllocateSpace")
		}
	}
	conf := newConfig()
	for _, k := range src.conf.keys {
		if k == "template" || k == "vmgenid" || k == "meta" {
			continue
		}
		conf.set(k, src.conf.vals[k])
	}
	name, _ := src.conf.get("name")
	if r.has("name") {
		name = r.param("name")
	} else {
		name = "Copy-of-VM-" + name
	}
	conf.set("name", name)
	if r.has("description") {
		conf.set("description", r.param("description"))
	}
	conf.set("smbios1", "uuid="+uuid())
	conf.set("vmgenid", uuid())
	conf.set("meta", fmt.Sprintf("creation-qemu=9.2.0,ctime=%d", time.Now().Unix()))
	for i := 0; i < 32; i++ {
		k := fmt.Sprintf("net%d", i)
		if val, ok := conf.get(k); ok {
			if ps, err := pve.ParsePropertyString(val, "model"); err == nil {
				for _, m := range []string{"virtio", "e1000", "e1000e", "rtl8139", "vmxnet3"} {
					if _, has := ps.Get(m); has {
						ps.Delete(m)
						ps.Set("model", m)
					}
				}
				conf.set(k, renderNIC(ps))
			}
		}
	}
	clone := &vm{vmid: newid, conf: conf, lock: "create"}
	w.vms[newid] = clone
	srcID := src.vmid
	return s.startTaskLocked(r.who.id, "qmclone", strconv.Itoa(srcID), w.lockedWork(func(log taskLog) error {
		for _, k := range conf.disks() {
			val, _ := conf.get(k)
			ps, _ := pve.ParsePropertyString(val, "file")
			if ps == nil || strings.HasPrefix(k, "unused") {
				continue
			}
			st, vol, ok := w.findVolume(ps.Value("file"))
			if !ok || ps.Value("media") == "cdrom" && !strings.Contains(vol.name, "cloudinit") {
				continue
			}
			if strings.Contains(vol.name, "cloudinit") {
				p := &diskPlan{key: k, ps: ps, storage: st, size: vol.size, cloud: true}
				conf.set(k, p.allocate(newid))
				continue
			}
			dst := st
			if full && target != nil {
				dst = target
			}
			var nv *volume
			if full {
				nv = dst.allocDisk(newid, vol.size, r.param("format"), "vm")
				log.printfLocked("create full clone of drive %s (%s:%s)", k, st.ID, vol.name)
			} else {
				nv = &volume{name: fmt.Sprintf("%s/vm-%d-disk-%d", vol.name, newid, len(conf.disks())), content: "images",
					format: vol.format, size: vol.size, used: 0, ctime: time.Now().Unix(), vmid: newid}
				dst.volumes[nv.name] = nv
				log.printfLocked("create linked clone of drive %s (%s:%s)", k, st.ID, vol.name)
			}
			ps.Set("file", dst.ID+":"+nv.name)
			conf.set(k, ps.String())
		}
		clone.lock = ""
		return nil
	}), w.lockedUndo(func() {
		w.removeVM(newid)
	})), nil
}

// uuid returns a random (version 4) UUID, as smbios1 and vmgenid hold.
func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
