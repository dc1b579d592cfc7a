package pvesim

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// The permission checks of qemu-server's src/PVE/API2/Qemu.pm for creating
// a VM, changing its config and resizing its disks, in the order PVE makes
// them. The handlers call them with one line each.

// Config keys by the privilege qemu-server's $check_vm_modify_config_perm
// asks for them ($cpuoptions, $memoryoptions, $hwtypeoptions,
// $generaloptions, $vmpoweroptions, $diskoptions, $cloudinitoptions).
var (
	cpuOptions      = []string{"cores", "cpu", "runningcpu", "cpulimit", "cpuunits", "numa", "smp", "sockets", "vcpus"}
	memoryOptions   = []string{"memory", "balloon", "shares", "allow-ksm"}
	hwtypeOptions   = []string{"acpi", "hotplug", "kvm", "machine", "runningmachine", "scsihw", "smbios1", "tablet", "vga", "watchdog", "audio0", "rng0"}
	generalOptions  = []string{"agent", "autostart", "bios", "description", "keyboard", "localtime", "migrate_downtime", "migrate_speed", "name", "onboot", "ostype", "protection", "reboot", "startdate", "startup", "tdf", "template"}
	vmpowerOptions  = []string{"freeze"}
	diskOptions     = []string{"boot", "bootdisk", "vmstatestorage"}
	cloudinitOption = []string{"cicustom", "cipassword", "citype", "ciuser", "ciupgrade", "nameserver", "searchdomain", "sshkeys"}
	// skippedKeys are checked elsewhere, by value (PVE's "next if").
	skippedKeys = regexp.MustCompile(`^(?:unused|serial|usb|hostpci|virtiofs)\d+$`)
)

// newDiskRE is qemu-server's $NEW_DISK_RE: "[storage:]size" asks for a new
// volume. backupOwner and imageOwner find the VM owning a backup or a disk
// volume, as pve-storage's parse_volname does.
var (
	newDiskRE   = regexp.MustCompile(`^(([^/:\s]+):)?(\d+(\.\d+)?)$`)
	backupOwner = regexp.MustCompile(`^backup/vzdump-(?:qemu|lxc|openvz)-(\d+)-`)
	imageOwner  = regexp.MustCompile(`(?:^|/)(?:vm|base)-(\d+)-`)
)

// createExtracted and updateExtracted are the parameters create_vm and
// update_vm_api take out before they check the config keys.
var (
	createExtracted = []string{"node", "vmid", "archive", "bwlimit", "force", "pool", "start", "ha-managed", "storage", "unique", "live-restore", "import-working-storage"}
	updateExtracted = []string{"node", "vmid", "digest", "background_delay", "skip_cloud_init", "import-working-storage", "skiplock", "delete", "revert", "force"}
)

// isDriveName is qemu-server's is_valid_drivename.
func isDriveName(key string) bool { return slices.Contains(validDriveNames(), key) }

// configKeys are the config keys of a request: its parameters without
// those in extracted, with the "cdrom" alias resolved to ide2.
func configKeys(r *request, extracted []string) []string {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(r.params)) {
		if slices.Contains(extracted, k) {
			continue
		}
		if k == "cdrom" {
			k = "ide2"
		}
		keys = append(keys, k)
	}
	return keys
}

// driveValue is the request's value for key, with qemu-server's
// $resolve_cdrom_alias: "cdrom" is ide2 with media=cdrom.
func driveValue(r *request, key string) (string, bool) {
	if v, ok := r.params[key]; ok || key != "ide2" {
		return v, ok
	}
	v, ok := r.params["cdrom"]
	if ok && !strings.Contains(v, "media=") {
		v += ",media=cdrom"
	}
	return v, ok
}

// deletedKeys are the keys of update_vm_api's delete list, cdrom as ide2.
func deletedKeys(r *request) []string {
	var keys []string
	for _, k := range strings.FieldsFunc(r.param("delete"), func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if k == "cdrom" {
			k = "ide2"
		}
		keys = append(keys, k)
	}
	return keys
}

// checkVMPerm is $rpcenv->check_vm_perm: the privileges on /pool/{pool},
// else on /vms/{vmid}.
func (w *world) checkVMPerm(r *request, vmid int, pool string, anyOf bool, privs ...string) error {
	if pool != "" && w.can(r.who, "/pool/"+pool, anyOf, privs...) {
		return nil
	}
	return w.check(r.who, fmt.Sprintf("/vms/%d", vmid), anyOf, privs...)
}

// rootOnly is qemu-server's plain die for what only root@pam may do: 500.
func rootOnly(format string, args ...any) error { return failed(format, args...) }

// checkModifyConfigPerm is qemu-server's $check_vm_modify_config_perm.
func (w *world) checkModifyConfigPerm(r *request, vmid int, pool string, keys []string) error {
	if r.who.id == "root@pam" {
		return nil
	}
	for _, k := range keys {
		var err error
		switch {
		case isDriveName(k), k == "cdrom", skippedKeys.MatchString(k), k == "tags":
		case slices.Contains(cpuOptions, k), isIndexed(k, "numa"):
			err = w.checkVMPerm(r, vmid, pool, false, "VM.Config.CPU")
		case slices.Contains(memoryOptions, k):
			err = w.checkVMPerm(r, vmid, pool, false, "VM.Config.Memory")
		case slices.Contains(hwtypeOptions, k):
			err = w.checkVMPerm(r, vmid, pool, false, "VM.Config.HWType")
		case slices.Contains(generalOptions, k):
			err = w.checkVMPerm(r, vmid, pool, false, "VM.Config.Options")
			if err == nil && k == "startup" {
				err = w.check(r.who, "/", false, "Sys.Modify")
			}
		case slices.Contains(vmpowerOptions, k):
			err = w.checkVMPerm(r, vmid, pool, false, "VM.PowerMgmt")
		case slices.Contains(diskOptions, k):
			err = w.checkVMPerm(r, vmid, pool, false, "VM.Config.Disk")
		case isIndexed(k, "net"), k == "running-nets-host-mtu":
			err = w.checkVMPerm(r, vmid, pool, false, "VM.Config.Network")
		case slices.Contains(cloudinitOption, k), isIndexed(k, "ipconfig"):
			err = w.checkVMPerm(r, vmid, pool, true, "VM.Config.Cloudinit", "VM.Config.Network")
		case k == "vmstate":
			err = w.checkVMPerm(r, vmid, pool, false, "VM.Config.Disk", "VM.PowerMgmt")
		default:
			err = rootOnly("only root can set '%s' config", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// isIndexed reports whether key is prefix followed by a number.
func isIndexed(key, prefix string) bool {
	n, ok := strings.CutPrefix(key, prefix)
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

// checkStorageAccess is qemu-server's $check_storage_access: for each
// drive, Sys.Console on / for the host's CD-ROM, Datastore.AllocateSpace on
// the storage of a new disk (a cloud-init drive needs nothing), volume
// access for an existing volume and for an import-from source (VM.Clone on
// the VM owning it); volume access for unused disks, AllocateSpace on
// vmstatestorage.
func (w *world) checkStorageAccess(r *request, vmid int, defaultStorage string) error {
	for _, key := range validDriveNames() {
		value, ok := driveValue(r, key)
		if !ok {
			continue
		}
		ps, err := pve.ParsePropertyString(value, "file")
		if err != nil {
			continue // the drive checks answer the bad value
		}
		if err := w.checkDriveAccess(r, vmid, ps, defaultStorage); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.params)) {
		if !isIndexed(k, "unused") {
			continue
		}
		ps, err := pve.ParsePropertyString(r.params[k], "file")
		if err != nil {
			return badParam(k, fmt.Sprintf("failed to parse value '%s'", r.params[k]))
		}
		if err := w.checkVolumeAccess(r, vmid, ps.Value("file"), "images"); err != nil {
			return err
		}
	}
	if st, ok := r.params["vmstatestorage"]; ok {
		return w.check(r.who, "/storage/"+st, false, "Datastore.AllocateSpace")
	}
	return nil
}

// checkDriveAccess is $check_storage_access for one drive.
func (w *world) checkDriveAccess(r *request, vmid int, ps *pve.PropertyString, defaultStorage string) error {
	cdrom := ps.Value("media") == "cdrom"
	file := ps.Value("file")
	_, volname, _ := strings.Cut(file, ":")
	switch m := newDiskRE.FindStringSubmatch(file); {
	case file == "" || file == "none" || file == "cloudinit" || volname == "cloudinit":
	case cdrom && file == "cdrom":
		if err := w.check(r.who, "/", false, "Sys.Console"); err != nil {
			return err
		}
	case !cdrom && m != nil:
		st := m[2]
		if st == "" {
			st = defaultStorage
		}
		if st == "" {
			return failed("no storage ID specified (and no default storage)")
		}
		if err := w.check(r.who, "/storage/"+st, false, "Datastore.AllocateSpace"); err != nil {
			return err
		}
	default:
		if err := w.checkVolumeAccess(r, vmid, file, ""); err != nil {
			return err
		}
	}
	src, importing := ps.Get("import-from")
	if !importing {
		return nil
	}
	if _, _, managed := strings.Cut(src, ":"); managed && !strings.HasPrefix(src, "/") {
		if _, owner := volumeType(src); owner != 0 {
			return w.check(r.who, fmt.Sprintf("/vms/%d", owner), false, "VM.Clone")
		}
	}
	return w.checkVolumeAccess(r, vmid, src, "")
}

// volumeType is what PVE's parse_volname says of a volume ID: its content
// type and the VM owning it (0 for none); a linked clone's volume
// ("base-100-disk-0/vm-101-disk-0") belongs to the clone.
func volumeType(volid string) (string, int) {
	_, name, _ := strings.Cut(volid, ":")
	if dir, _, ok := strings.Cut(name, "/"); ok && slices.Contains([]string{"iso", "vztmpl", "backup", "import", "snippets"}, dir) {
		owner := 0
		if dir == "backup" {
			if m := backupOwner.FindStringSubmatch(name); m != nil {
				owner, _ = strconv.Atoi(m[1])
			}
		}
		return dir, owner
	}
	if m := imageOwner.FindAllStringSubmatch(name, -1); m != nil {
		owner, _ := strconv.Atoi(m[len(m)-1][1])
		return "images", owner
	}
	return "images", 0
}

// checkVolumeAccess is pve-storage's PVE::Storage::check_volume_access.
func (w *world) checkVolumeAccess(r *request, vmid int, volid, want string) error {
	st, _, managed := strings.Cut(volid, ":")
	if !managed || strings.HasPrefix(volid, "/") {
		if r.who.id != "root@pam" {
			return rootOnly("Only root can pass arbitrary filesystem paths.")
		}
		return nil
	}
	vtype, owner := volumeType(volid)
	if want != "" && vtype != want {
		return failed("unable to use volume %s - content type needs to be '%s'", volid, want)
	}
	path := "/storage/" + st
	switch {
	case w.can(r.who, path, false, "Datastore.Allocate"):
		return nil
	case vtype == "iso" || vtype == "vztmpl" || vtype == "import":
		return w.check(r.who, path, true, "Datastore.AllocateSpace", "Datastore.Audit")
	case owner != 0 && owner == vmid:
		return nil
	case vtype == "backup" && owner != 0:
		if err := w.check(r.who, path, false, "Datastore.AllocateSpace"); err != nil {
			return err
		}
		return w.check(r.who, fmt.Sprintf("/vms/%d", owner), false, "VM.Backup")
	case vtype == "images" && owner != 0:
		if err := w.check(r.who, path, false, "Datastore.Audit"); err != nil {
			return err
		}
		return w.check(r.who, fmt.Sprintf("/vms/%d", owner), false, "VM.Config.Disk")
	}
	return failed("missing privileges to access %s", volid)
}

// checkDevicePerm is create_vm's check of a device by value
// ($check_vm_create_serial_perm, check_usb_perm, check_hostpci_perm,
// check_rng_perm, check_dir_perm), and update_vm_api's for a device value
// set (verb "modify") or deleted ("delete"); verb words a serial port's
// refusal.
func (w *world) checkDevicePerm(r *request, vmid int, pool, key, value, verb string) error {
	if r.who.id == "root@pam" {
		return nil
	}
	ps, _ := pve.ParsePropertyString(value, "host")
	switch {
	case isIndexed(key, "serial"):
		if value != "socket" {
			return rootOnly("only root can %s '%s' config for real devices", verb, key)
		}
		return w.checkVMPerm(r, vmid, pool, false, "VM.Config.HWType")
	case isIndexed(key, "usb"):
		if err := w.checkVMPerm(r, vmid, pool, false, "VM.Config.HWType"); err != nil {
			return err
		}
		switch {
		case ps != nil && ps.Value("host") != "":
			if !strings.EqualFold(ps.Value("host"), "spice") {
				return rootOnly("only root can set '%s' config for real devices", key)
			}
		case ps != nil && ps.Value("mapping") != "":
			return w.check(r.who, "/mapping/usb/"+ps.Value("mapping"), false, "Mapping.Use")
		default:
			return rootOnly("either 'host' or 'mapping' must be set.")
		}
	case isIndexed(key, "hostpci"):
		switch {
		case ps != nil && ps.Value("host") != "":
			return rootOnly("only root can set '%s' config for non-mapped devices", key)
		case ps != nil && ps.Value("mapping") != "":
			if err := w.check(r.who, "/mapping/pci/"+ps.Value("mapping"), false, "Mapping.Use"); err != nil {
				return err
			}
			if err := w.checkVMPerm(r, vmid, pool, false, "VM.Config.HWType"); err != nil {
				return err
			}
		default:
			return rootOnly("either 'host' or 'mapping' must be set.")
		}
		if _, ok := ps.Get("romfile"); ok {
			return badParam(key, "only root@pam can set 'romfile' option")
		}
	case key == "rng0" || isIndexed(key, "rng"):
		if err := w.checkVMPerm(r, vmid, pool, false, "VM.Config.HWType"); err != nil {
			return err
		}
		if rng, _ := pve.ParsePropertyString(value, "source"); rng != nil && rng.Value("source") == "/dev/hwrng" {
			return w.check(r.who, "/mapping/hwrng", false, "Mapping.Use")
		}
	case isIndexed(key, "virtiofs"):
		if err := w.checkVMPerm(r, vmid, pool, false, "VM.Config.Disk"); err != nil {
			return err
		}
		dir, _ := pve.ParsePropertyString(value, "dirid")
		if dir != nil {
			return w.check(r.who, "/mapping/dir/"+dir.Value("dirid"), false, "Mapping.Use")
		}
	}
	return nil
}

// isDeviceKey reports whether checkDevicePerm checks key.
func isDeviceKey(key string) bool {
	for _, p := range []string{"serial", "usb", "hostpci", "rng", "virtiofs"} {
		if isIndexed(key, p) {
			return true
		}
	}
	return false
}

// checkCreatePerms are create_vm's checks after VM.Allocate: storage
// access, the config keys, the devices by value, then SDN.Use on each
// NIC's bridge (the NIC check itself stays in applyOptions). Caller holds
// the lock.
func (w *world) checkCreatePerms(r *request, vmid int) error {
	if len(configKeys(r, createExtracted)) == 0 {
		return nil
	}
	pool := r.param("pool")
	if err := w.checkStorageAccess(r, vmid, r.param("storage")); err != nil {
		return err
	}
	if err := w.checkModifyConfigPerm(r, vmid, pool, configKeys(r, createExtracted)); err != nil {
		return err
	}
	for _, k := range configKeys(r, createExtracted) {
		if isDeviceKey(k) {
			if err := w.checkDevicePerm(r, vmid, pool, k, r.params[k], "set"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkConfigPerms are update_vm_api's checks before it forks: the config
// keys of delete and of the parameters, then storage access. Caller holds
// the lock.
func (w *world) checkConfigPerms(r *request) error {
	vmid, _ := strconv.Atoi(r.param("vmid"))
	if err := w.checkModifyConfigPerm(r, vmid, "", deletedKeys(r)); err != nil {
		return err
	}
	if err := w.checkModifyConfigPerm(r, vmid, "", configKeys(r, updateExtracted)); err != nil {
		return err
	}
	return w.checkStorageAccess(r, vmid, "")
}

// checkConfigWorkerPerms are the checks update_vm_api's $updatefn makes
// on the VM's config: $check_drive_perms for each deleted drive and for
// the old and new value of each set drive, VM.Config.Disk to delete an
// unused disk and, for a volume the VM owns, try_deallocate_drive's
// Datastore.AllocateSpace on its storage, assert_tag_permissions for tags, the device checks by
// value. Keys the config does not hold are not deleted, so not checked.
func (w *world) checkConfigWorkerPerms(r *request, v *vm) error {
	for _, k := range deletedKeys(r) {
		val, ok := v.conf.get(k)
		var err error
		switch {
		case !ok:
		case isIndexed(k, "unused"):
			err = w.checkVMPerm(r, v.vmid, "", false, "VM.Config.Disk")
			if _, owner := volumeType(val); err == nil && owner == v.vmid {
				st, _, _ := strings.Cut(val, ":")
				err = w.check(r.who, "/storage/"+st, false, "Datastore.AllocateSpace")
			}
		case isDriveName(k):
			err = w.checkDrivePerms(r, v.vmid, val)
		case isDeviceKey(k):
			err = w.checkDevicePerm(r, v.vmid, "", k, val, "delete")
		case k == "tags":
			err = w.checkVMPerm(r, v.vmid, "", false, "VM.Config.Options")
		}
		if err != nil {
			return err
		}
	}
	for _, k := range configKeys(r, updateExtracted) {
		val, _ := driveValue(r, k)
		var err error
		switch {
		case isDriveName(k):
			if old, ok := v.conf.get(k); ok {
				if err = w.checkDrivePerms(r, v.vmid, old); err != nil {
					return err
				}
			}
			err = w.checkDrivePerms(r, v.vmid, val)
		case isDeviceKey(k):
			old, had := v.conf.get(k)
			switch {
			case had && isIndexed(k, "serial") && old != "socket" && r.who.id != "root@pam":
				err = rootOnly("only root can modify '%s' config for real devices", k)
			case had && !isIndexed(k, "serial"):
				err = w.checkDevicePerm(r, v.vmid, "", k, old, "modify")
			}
			if err == nil {
				err = w.checkDevicePerm(r, v.vmid, "", k, val, "modify")
			}
		case k == "tags":
			err = w.checkVMPerm(r, v.vmid, "", false, "VM.Config.Options")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkDrivePerms is update_vm_api's $check_drive_perms: a cloud-init
// drive needs VM.Config.Cloudinit and VM.Config.CDROM, a CD-ROM
// VM.Config.CDROM, any other drive VM.Config.Disk.
func (w *world) checkDrivePerms(r *request, vmid int, value string) error {
	if r.who.id == "root@pam" {
		return nil
	}
	ps, _ := pve.ParsePropertyString(value, "file")
	if ps == nil {
		return nil
	}
	switch {
	case cloudinitDrive.MatchString(ps.Value("file")):
		return w.checkVMPerm(r, vmid, "", false, "VM.Config.Cloudinit", "VM.Config.CDROM")
	case ps.Value("media") == "cdrom":
		return w.checkVMPerm(r, vmid, "", false, "VM.Config.CDROM")
	}
	return w.checkVMPerm(r, vmid, "", false, "VM.Config.Disk")
}

// cloudinitDrive is qemu-server's drive_is_cloudinit.
var cloudinitDrive = regexp.MustCompile(`[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|qcow2|vmdk))?$`)

// configPermsSync runs every permission check of a PUT .../config (the
// update runs in the request): the checks before the fork, then, on a VM
// that can be changed, those of $updatefn. Caller holds the lock.
func (w *world) configPermsSync(r *request) error {
	if err := w.checkConfigPerms(r); err != nil {
		return err
	}
	if v, err := w.writableVM(r); err == nil {
		return w.checkConfigWorkerPerms(r, v)
	}
	return nil
}

// configPermsAsync runs the permission checks of a POST .../config: those
// before the fork answer 403; when one of $updatefn's fails, the answer is
// a qmconfig task that fails with it (stop: the handler answers upid, err
// and changes nothing). Caller holds the lock.
func (s *Server) configPermsAsync(w *world, r *request) (upid any, stop bool, err error) {
	if err := w.checkConfigPerms(r); err != nil {
		return nil, true, err
	}
	v, err := w.writableVM(r)
	if err != nil {
		return nil, false, nil
	}
	late := w.checkConfigWorkerPerms(r, v)
	if late == nil {
		return nil, false, nil
	}
	return s.startTaskLocked(r.who.id, "qmconfig", strconv.Itoa(v.vmid), w.lockedWork(func(taskLog) error {
		return inTask(late)
	})), true, nil
}

// checkResizeStorage is resize_vm's check inside its worker:
// Datastore.AllocateSpace on the storage of the disk's volume, as a task
// error. Caller holds the lock.
func (w *world) checkResizeStorage(r *request, volid string) error {
	st, _, _ := strings.Cut(volid, ":")
	return inTask(w.check(r.who, "/storage/"+st, false, "Datastore.AllocateSpace"))
}
