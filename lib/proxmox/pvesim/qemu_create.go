package pvesim

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"path"
	"regexp"
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
	if err := w.checkCreatePerms(r, vmid); err != nil {
		return nil, err
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
		if order := bootOrder(plans, conf); len(order) > 0 {
			conf.set("boot", "order="+strings.Join(order, ";"))
		}
	}
	v := &vm{vmid: vmid, conf: conf, lock: "create"}
	w.vms[vmid] = v
	upid := s.startTaskLocked(r.who.id, "qmcreate", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		for _, p := range plans {
			if p.storage == nil {
				continue
			}
			if err := w.checkImportSource(p); err != nil {
				return fmt.Errorf("unable to create VM %d - %w", vmid, err)
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

// bootOrder is qemu-server's get_default_bootdevices: the first disk,
// the first CD-ROM (cloud-init drives included), the first NIC, in
// valid_drive_names order. Empty when there is none of them.
func bootOrder(plans []*diskPlan, conf *config) []string {
	cdrom := map[string]bool{}
	for _, p := range plans {
		cdrom[p.key] = p.cloud || p.ps.Value("media") == "cdrom"
	}
	var order []string
	for _, want := range []bool{false, true} {
		for _, k := range bootDriveNames() {
			if is, ok := cdrom[k]; ok && is == want {
				order = append(order, k)
				break
			}
		}
	}
	for i := 0; i < 32; i++ {
		if _, ok := conf.get(fmt.Sprintf("net%d", i)); ok {
			order = append(order, fmt.Sprintf("net%d", i))
			break
		}
	}
	return order
}

// cloneVM answers POST .../qemu/{vmid}/clone as qemu-server 9.2's clone_vm:
// the checks of $load_and_check run first (target storage, source config
// and lock, linked-clone feature, target ID); the clone is registered
// locked "clone" and its disks are copied (full) or linked in a qmclone
// task, which unlocks it at the end. The source's config is not locked.
func cloneVM(s *Server, w *world, r *request) (any, error) {
	newid, _ := strconv.Atoi(r.param("newid"))
	var target *storage
	if id := r.param("storage"); id != "" {
		var err error
		if target, err = w.storage(id); err != nil {
			return nil, err
		}
		if target.Disabled {
			return nil, failed("storage '%s' is disabled", id)
		}
		if !target.content["images"] {
			return nil, badParam("storage", fmt.Sprintf("storage '%s' does not support vm images", id))
		}
		if !w.can(r.who, "/storage/"+id, false, "Datastore.AllocateSpace") {
			return nil, forbidden("/storage/"+id, "Datastore.AllocateSpace")
		}
	}
	src, err := w.writableVM(r)
	if err != nil {
		return nil, err
	}
	full := !src.isTemplate()
	if r.has("full") {
		full = r.param("full") == "1"
	}
	if !full {
		for _, p := range []string{"storage", "format"} {
			if r.has(p) {
				return nil, failed("parameter '%s' not allowed for linked clones", p)
			}
		}
		if err := w.checkLinkable(src); err != nil {
			return nil, err
		}
	}
	if _, exists := w.vms[newid]; exists {
		return nil, failed("unable to create VM %d: config file already exists", newid)
	}
	clone := &vm{vmid: newid, conf: cloneConfig(src, r), lock: "clone"}
	w.vms[newid] = clone
	srcID := src.vmid
	return s.startTaskLocked(r.who.id, "qmclone", strconv.Itoa(srcID), w.lockedWork(func(log taskLog) error {
		log.printfLocked("creating a clone of VM %d with ID %d", srcID, newid)
		for _, k := range clone.conf.disks() {
			val, _ := clone.conf.get(k)
			ps, err := pve.ParsePropertyString(val, "file")
			if err != nil {
				return fmt.Errorf("unable to parse drive options for '%s'", k)
			}
			if ps.Value("media") == "cdrom" && !isCloudInit(ps) {
				continue
			}
			st, vol, ok := w.findVolume(ps.Value("file"))
			if !ok {
				return fmt.Errorf("clone failed: volume '%s' does not exist", ps.Value("file"))
			}
			clone.conf.set(k, w.cloneDrive(log, k, ps, st, vol, newid, full, target, r.param("format")))
		}
		clone.lock = ""
		return nil
	}), w.lockedUndo(func() {
		w.removeVM(newid)
	})), nil
}

// isCloudInit is qemu-server's drive_is_cloudinit.
func isCloudInit(ps *pve.PropertyString) bool {
	return cloudInitRe.MatchString(ps.Value("file"))
}

var cloudInitRe = regexp.MustCompile(`[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|qcow2|vmdk))?$`)

// checkLinkable refuses a linked clone of a VM with a disk that is not a
// base volume: the storages' 'clone' feature needs one. CD-ROMs are copied
// as they are, the cloud-init drive and tpmstate0 always fully.
func (w *world) checkLinkable(src *vm) error {
	for _, k := range src.conf.disks() {
		val, _ := src.conf.get(k)
		ps, err := pve.ParsePropertyString(val, "file")
		if err != nil || strings.HasPrefix(k, "unused") || k == "tpmstate0" || isCloudInit(ps) || ps.Value("media") == "cdrom" {
			continue
		}
		if id, err := pve.ParseVolumeID(ps.Value("file")); err != nil || !strings.HasPrefix(path.Base(id.Name), "base-") {
			return failed("Linked clone feature is not supported for '%s' (%s)", ps.Value("file"), k)
		}
	}
	return nil
}

// cloneConfig is the clone's config before its disks are copied: the
// source's options without template and unusedN, a new MAC on each NIC, a
// new SMBIOS UUID and vmgenid, and the name and description asked for.
func cloneConfig(src *vm, r *request) *config {
	conf := newConfig()
	for _, k := range src.conf.keys {
		if k == "template" || strings.HasPrefix(k, "unused") {
			continue
		}
		conf.set(k, src.conf.vals[k])
	}
	name, ok := src.conf.get("name")
	if !ok {
		name = strconv.Itoa(src.vmid)
	}
	name = "Copy-of-VM-" + name
	if r.param("name") != "" {
		name = r.param("name")
	}
	conf.set("name", name)
	if r.param("description") != "" {
		conf.set("description", r.param("description"))
	}
	smbios, _ := conf.get("smbios1")
	ps, err := pve.ParsePropertyString(smbios, "uuid")
	if err != nil || smbios == "" {
		ps = pve.NewPropertyString("uuid")
	}
	conf.set("smbios1", ps.Set("uuid", uuid()).String())
	if _, ok := conf.get("vmgenid"); ok {
		conf.set("vmgenid", uuid())
	}
	for i := 0; i < 32; i++ {
		k := fmt.Sprintf("net%d", i)
		if val, ok := conf.get(k); ok {
			if ps, err := pve.ParsePropertyString(val, "model"); err == nil {
				for _, m := range nicModels() {
					if _, has := ps.Get(m); has {
						ps.Delete(m)
						ps.Set("model", m)
					}
				}
				conf.set(k, renderNIC(ps))
			}
		}
	}
	return conf
}

// cloneDrive is qemu-server's clone_disk for one drive of a clone: the
// cloud-init drive is re-created, tpmstate0 and every disk of a full clone
// copied to a new vm-<newid>-disk-<n> (on the target storage, if given),
// the disks of a linked clone linked to their base volume, named as the
// storage's clone_image names them. It returns the new drive value. Caller
// holds the lock.
func (w *world) cloneDrive(log taskLog, key string, ps *pve.PropertyString, st *storage, vol *volume, newid int, full bool, target *storage, format string) string {
	dst := st
	if target != nil {
		dst = target
	}
	if isCloudInit(ps) {
		p := &diskPlan{key: key, ps: ps, storage: dst, size: vol.size, cloud: true}
		return p.allocate(newid)
	}
	kind := "full"
	if !full && key != "tpmstate0" {
		kind = "linked"
	}
	log.printfLocked("create %s clone of drive %s (%s:%s)", kind, key, st.ID, vol.name)
	var nv *volume
	if kind == "full" {
		if format == "" {
			format = vol.format
		}
		nv = dst.allocDisk(newid, vol.size, format)
		log.printfLocked("allocated target volume '%s:%s'", dst.ID, nv.name)
	} else {
		nv = &volume{content: "images", format: vol.format, size: vol.size, ctime: time.Now().Unix(), vmid: newid}
		if fileBased(st.Type) {
			nv.format = "qcow2"
			nv.name = fmt.Sprintf("%s/%d/%s", vol.name, newid, st.freeDiskName(newid, "qcow2"))
		} else {
			nv.name = vol.name + "/" + st.freeDiskName(newid, vol.format)
		}
		st.volumes[nv.name] = nv
	}
	ps.Set("file", dst.ID+":"+nv.name).Set("size", formatSize(nv.size))
	return ps.String()
}

// uuid returns a random (version 4) UUID, as smbios1 and vmgenid hold.
func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
