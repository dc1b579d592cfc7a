package pvesim

import (
	"fmt"
	"strconv"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// moveDisk answers POST .../qemu/{vmid}/move_disk to another storage as
// qemu-server 9.2's move_vm_disk: the schema's check (VM.Config.Disk on the
// VM), then Datastore.AllocateSpace on the target storage and
// $load_and_check_move before the call answers; the copy runs in a qmmove
// task that checks again, copies the volume (full, a running VM's too: PVE
// mirrors it) to the lowest free disk name of the target, and keeps the
// source as unusedN or frees it (delete=1). Reassigning a disk to another
// VM (target-vmid) is not implemented. Caller holds the lock.
func moveDisk(s *Server, w *world, r *request) (any, error) {
	target := r.param("storage")
	switch {
	case r.has("target-vmid") && target != "":
		msg := "either set 'storage' or 'target-vmid', but not both"
		return nil, badParams(map[string]string{"target-vmid": msg, "storage": msg})
	case r.has("target-vmid"):
		return nil, notImplemented("POST", "/nodes/"+w.node+"/qemu/"+r.param("vmid")+"/move_disk with target-vmid")
	case target == "":
		msg := "both 'storage' and 'target-vmid' missing, either needs to be set"
		return nil, badParams(map[string]string{"target-vmid": msg, "storage": msg})
	}
	if err := w.check(r.who, "/storage/"+target, false, "Datastore.AllocateSpace"); err != nil {
		return nil, err
	}
	if _, _, err := w.checkMove(r); err != nil {
		return nil, err
	}
	vmid, _ := strconv.Atoi(r.param("vmid"))
	return s.startTaskLocked(r.who.id, "qmmove", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		return w.move(r, log)
	})), nil
}

// checkMove is move_vm_disk's $load_and_check_move: the VM's lock and
// digest, the disk (present, with a volume, not a CD-ROM), not the same
// storage with the same format, and a target storage that is enabled and
// holds images. It returns the VM and the parsed drive. Caller holds the
// lock.
func (w *world) checkMove(r *request) (*vm, *pve.PropertyString, error) {
	v, err := w.writableVM(r)
	if err != nil {
		return nil, nil, err
	}
	if d := r.param("digest"); d != "" && d != v.digest() {
		return nil, nil, failed("detected modified configuration - file changed by other user? Try again.")
	}
	disk := r.param("disk")
	val, ok := v.conf.get(disk)
	if !ok {
		return nil, nil, failed("disk '%s' does not exist", disk)
	}
	ps, err := pve.ParsePropertyString(val, "file")
	if err != nil || ps.Value("file") == "" {
		return nil, nil, failed("disk '%s' has no associated volume", disk)
	}
	if ps.Value("media") == "cdrom" && !isCloudInit(ps) || ps.Value("file") == "none" || ps.Value("file") == "cdrom" {
		return nil, nil, failed("you can't move a cdrom")
	}
	st, vol, ok := w.findVolume(ps.Value("file"))
	if !ok {
		return nil, nil, failed("volume '%s' does not exist", ps.Value("file"))
	}
	format := r.param("format")
	if st.ID == r.param("storage") && (format == "" || format == vol.format) {
		return nil, nil, failed("you can't move to the same storage with same format")
	}
	dst, err := w.storage(r.param("storage"))
	if err != nil {
		return nil, nil, err
	}
	if dst.Disabled {
		return nil, nil, failed("storage '%s' is disabled", dst.ID)
	}
	if !dst.content["images"] {
		return nil, nil, badParam("storage", fmt.Sprintf("storage '%s' does not support vm images", dst.ID))
	}
	return v, ps, nil
}

// move is move_vm_disk's $move_updatefn inside the qmmove task: clone_disk
// copies the volume (a linked clone's disk becomes a whole one), the drive
// gets the new volume, the source becomes unusedN unless delete=1 frees it
// after the copy (vdisk_free's refusal of a base volume still in use by
// linked clones is a warning), and a template's moved disk becomes a base
// volume (template_create). Caller holds the lock.
func (w *world) move(r *request, log taskLog) error {
	v, ps, err := w.checkMove(r)
	if err != nil {
		return inTask(err)
	}
	disk, old := r.param("disk"), ps.Value("file")
	st, vol, _ := w.findVolume(old)
	dst := w.storages[r.param("storage")]
	log.printfLocked("copying volume '%s' from current storage '%s' to target storage '%s'", old, st.ID, dst.ID)
	if v.running() {
		log.printfLocked("drive mirror is starting for drive-%s", disk)
	}
	format := r.param("format")
	if format == "" {
		format = vol.format
	}
	log.printfLocked("create full clone of drive %s (%s)", disk, old)
	nv := dst.allocDisk(v.vmid, vol.size, format)
	if v.isTemplate() {
		dst.renameToBase(nv, v.vmid)
	}
	if isIndexed(disk, "unused") { // an unusedN holds only its volume
		v.conf.set(disk, dst.ID+":"+nv.name)
	} else {
		v.conf.set(disk, ps.Set("file", dst.ID+":"+nv.name).Set("size", formatSize(nv.size)).String())
	}
	if r.param("delete") != "1" {
		log.printfLocked("adding source volume '%s' as '%s' to config", old, v.conf.addUnused(old))
		return nil
	}
	log.printfLocked("removing source volume '%s' after successful copy", old)
	if err := st.freeVolume(vol); err != nil {
		log.printfLocked("%s", err)
		return warning{n: 1}
	}
	return nil
}

// deallocateUnused is qemu-server's try_deallocate_drive for an unusedN
// being deleted: a volume the VM owns is freed, unless another option of
// the config still uses it; another VM's volume only leaves the config.
// The permissions were checked by checkConfigWorkerPerms. Caller holds the
// lock.
func (w *world) deallocateUnused(v *vm, key string) error {
	volid, ok := v.conf.get(key)
	if !ok {
		return nil
	}
	if _, owner := volumeType(volid); owner != v.vmid {
		return nil
	}
	for _, k := range v.conf.disks() {
		if val, _ := v.conf.get(k); k != key && driveFile(val) == volid {
			return failed("unable to delete '%s' - volume is still in use (snapshot?)", volid)
		}
	}
	st, vol, ok := w.findVolume(volid)
	if !ok {
		return failed("volume '%s' does not exist", volid)
	}
	return st.freeVolume(vol)
}
