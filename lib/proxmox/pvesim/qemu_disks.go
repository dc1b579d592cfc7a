package pvesim

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// driveKeys lists the drive options a request holds, sorted by name: PVE
// checks and allocates them in that order (sort keys $param), so efidisk0
// gets its volume before scsi0.
func driveKeys(params map[string]string) []string {
	var keys []string
	for k := range params {
		if isDiskKey(k) && !strings.HasPrefix(k, "unused") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// diskPlan is what a disk option asks for.
type diskPlan struct {
	key     string
	ps      *pve.PropertyString
	storage *storage
	size    int64
	source  string // import-from volume ID
	cloud   bool
}

// resolveCdromAlias turns the 'cdrom' parameter into ide2 with media=cdrom,
// as qemu-server's $resolve_cdrom_alias does.
func resolveCdromAlias(r *request) {
	v, ok := r.params["cdrom"]
	if !ok {
		return
	}
	if !strings.Contains(v, "media=") {
		v += ",media=cdrom"
	}
	r.params["ide2"] = v
	delete(r.params, "cdrom")
}

// planDisks checks and plans every drive option of a create or config
// update. The checks run in qemu-server's order: create_vm runs
// $check_storage_access before $check_drive_param, update_vm the other way
// round, each over the drives sorted by name. Options planDisk keeps as they
// are come back without a storage. Caller holds the lock.
func (w *world) planDisks(r *request, create bool) ([]*diskPlan, error) {
	resolveCdromAlias(r)
	keys := driveKeys(r.params)
	drives := map[string]*pve.PropertyString{}
	for _, key := range keys {
		ps, err := parseDrive(r.params[key])
		if err != nil {
			return nil, badParam(key, "invalid format - "+err.Error())
		}
		drives[key] = ps
	}
	checks := []func(r *request, key string, ps *pve.PropertyString) error{w.checkDriveParam, w.checkDriveContent}
	if create {
		checks[0], checks[1] = checks[1], checks[0]
	}
	for _, check := range checks {
		for _, key := range keys {
			if err := check(r, key, drives[key]); err != nil {
				return nil, err
			}
		}
	}
	var plans []*diskPlan
	for _, key := range keys {
		plan, err := w.planDisk(key, drives[key])
		if err != nil {
			return nil, err
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// parseDrive parses a drive option of a request as qemu-server's Drive.pm
// parse_drive does: the aliased keys of $drivedesc_base and the throttling
// options ("volume", "*_length") are stored under their targets ("file",
// "*_max_length"), so print_drive writes only the targets. The schema has
// already refused an alias given with its target.
func parseDrive(v string) (*pve.PropertyString, error) {
	ps, err := pve.ParsePropertyString(v, "file")
	if err != nil {
		return nil, err
	}
	aliases := map[string]string{"volume": "file"}
	for _, k := range []string{"bps_rd", "bps_wr", "iops_rd", "iops_wr"} {
		aliases[k+"_length"] = k + "_max_length"
	}
	for alias, target := range aliases {
		if val, ok := ps.Get(alias); ok {
			ps.Delete(alias)
			ps.Set(target, val)
		}
	}
	return ps, nil
}

// driveVolume splits a drive's file into its storage and volume parts and
// says whether it names an existing volume (not "none", "cdrom", a path, a
// new disk "storage:size" or "storage:cloudinit").
func driveVolume(ps *pve.PropertyString) (stID, rest string, existing bool) {
	file := ps.Value("file")
	if file == "none" || file == "cdrom" || strings.HasPrefix(file, "/") {
		return "", "", false
	}
	stID, rest, _ = strings.Cut(file, ":")
	return stID, rest, rest != "cloudinit" && !sizeOnly(rest)
}

// checkDriveParam is qemu-server's $check_drive_param: import-from needs the
// "<storage>:0" syntax, and on efidisk0 efitype and pre-enrolled-keys, on
// tpmstate0 version; an existing ISO volume needs media=cdrom.
func (w *world) checkDriveParam(_ *request, key string, ps *pve.PropertyString) error {
	if _, importing := ps.Get("import-from"); importing {
		if _, rest, _ := strings.Cut(ps.Value("file"), ":"); rest != "0" {
			return badParam(key, "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>")
		}
		required := map[string][]string{"efidisk0": {"efitype", "pre-enrolled-keys"}, "tpmstate0": {"version"}}[key]
		for _, k := range required {
			if _, ok := ps.Get(k); !ok {
				return badParam(key, fmt.Sprintf("need to specify '%s' when using 'import-from'", k))
			}
		}
	}
	if _, _, existing := driveVolume(ps); existing {
		if _, vol, ok := w.findVolume(ps.Value("file")); ok && vol.content == "iso" && ps.Value("media") != "cdrom" {
			return badParam(key, "explicit 'media=cdrom' is required for iso images")
		}
	}
	return nil
}

// checkDriveContent is the content half of qemu-server's
// $check_storage_access (checkStorageAccess in perms_qemu.go is the
// permission half): a new disk needs a storage that holds images; an
// existing volume must be of content images or iso; an import-from source
// must be of content images or import.
func (w *world) checkDriveContent(r *request, key string, ps *pve.PropertyString) error {
	stID, rest, existing := driveVolume(ps)
	switch {
	case existing:
		_, vol, ok := w.findVolume(ps.Value("file"))
		if !ok {
			return failed("volume '%s' does not exist", ps.Value("file"))
		}
		if vol.content != "images" && vol.content != "iso" {
			return badParam(key, "content type needs to be 'images' or 'iso'")
		}
	case stID != "" && rest != "cloudinit":
		st, ok := w.storages[stID]
		if !ok {
			return badParam("storage", fmt.Sprintf("storage '%s' does not exist", stID))
		}
		if !st.content["images"] {
			return badParam("storage", fmt.Sprintf("storage '%s' does not support vm images", stID))
		}
	}
	src, importing := ps.Get("import-from")
	if !importing {
		return nil
	}
	if strings.HasPrefix(src, "/") {
		return badParam(key, "importing from an absolute path is not supported by the simulator")
	}
	_, vol, ok := w.findVolume(src)
	if !ok {
		return badParam(key, fmt.Sprintf("volume '%s' does not exist", src))
	}
	if vol.content != "images" && vol.content != "import" {
		return badParam(key, fmt.Sprintf("volume '%s' has wrong type '%s' - needs to be 'images' or 'import'", src, vol.content))
	}
	return nil
}

// planDisk says what to allocate for one checked drive option. Existing
// volumes are kept and get their size, CD-ROM drives "none" and "cdrom"
// lose it. Caller holds the lock.
func (w *world) planDisk(key string, ps *pve.PropertyString) (*diskPlan, error) {
	stID, rest, existing := driveVolume(ps)
	if stID == "" {
		ps.Delete("size")
		return &diskPlan{key: key, ps: ps}, nil
	}
	if existing {
		_, vol, _ := w.findVolume(ps.Value("file"))
		ps.Set("size", formatSize(vol.size))
		return &diskPlan{key: key, ps: ps}, nil
	}
	st, ok := w.storages[stID]
	if !ok {
		return nil, failed("storage '%s' does not exist", stID)
	}
	plan := &diskPlan{key: key, ps: ps, storage: st, cloud: rest == "cloudinit"}
	if src, importing := ps.Get("import-from"); importing {
		_, vol, _ := w.findVolume(src)
		plan.source, plan.size = src, vol.size
		return plan, nil
	}
	switch {
	case plan.cloud:
		plan.size = 4 << 20
	case key == "efidisk0":
		plan.size = 1 << 20
		if ps.Value("efitype") != "4m" {
			plan.size = 128 << 10
		}
	case key == "tpmstate0":
		plan.size = 4 << 20
	default:
		gib, _ := strconv.ParseFloat(rest, 64)
		plan.size = int64(gib * (1 << 30))
	}
	return plan, nil
}

// sizeOnly reports whether a drive value's volume part is a size in GiB
// ("storage:32"), which asks for a new volume.
func sizeOnly(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// checkImportSource checks an import-from source of import content again
// when the disk is made, as qemu-server's create_disks does: pve-storage's
// file_size_info on its path, untrusted (no backing or data file). Caller
// holds the lock.
func (w *world) checkImportSource(p *diskPlan) error {
	if p.source == "" {
		return nil
	}
	st, vol, ok := w.findVolume(p.source)
	if !ok {
		return fmt.Errorf("volume '%s' does not exist", p.source)
	}
	if vol.content != "import" || vol.file == "" {
		return nil
	}
	file := strings.TrimPrefix(vol.name, "import/")
	_, err := untrustedImage("import", file, vol.file, st.pvePath("import", file))
	return err
}

// allocate creates the plan's volume and returns the config value.
func (p *diskPlan) allocate(vmid int) string {
	if p.storage == nil {
		return p.ps.String()
	}
	if p.cloud {
		name := fmt.Sprintf("vm-%d-cloudinit", vmid)
		if fileBased(p.storage.Type) {
			name = fmt.Sprintf("%d/vm-%d-cloudinit.qcow2", vmid, vmid)
		}
		p.storage.volumes[name] = &volume{name: name, content: "images", format: "raw", size: p.size, used: p.size, ctime: time.Now().Unix(), vmid: vmid}
		p.ps.Set("file", p.storage.ID+":"+name).Set("media", "cdrom")
		return p.ps.String()
	}
	vol := p.storage.allocDisk(vmid, p.size, "")
	p.ps.Delete("import-from")
	p.ps.Set("file", p.storage.ID+":"+vol.name).Set("size", formatSize(p.size))
	return p.ps.String()
}

// resizeDisk answers PUT .../qemu/{vmid}/resize as qemu-server 9.2's
// resize_vm: only skiplock is checked before the resize task; the config,
// digest, lock, disk, CD-ROM and shrink checks fail the task. It grows the
// disk from its volume's size (never shrinks).
func resizeDisk(s *Server, w *world, r *request) (any, error) {
	if err := rootOnlyParams(r, "skiplock"); err != nil {
		return nil, err
	}
	vmid, _ := strconv.Atoi(r.param("vmid"))
	return s.startTaskLocked(r.who.id, "resize", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		return inTask(w.resize(r, log))
	})), nil
}

// inTask turns a handler's API error into the plain message a task stops
// with, as a die inside a PVE worker.
func inTask(err error) error {
	var e *apiError
	if errors.As(err, &e) {
		return errors.New(e.msg)
	}
	return err
}

// resize is the work of a resize task. Caller holds the lock.
func (w *world) resize(r *request, log taskLog) error {
	v, err := w.lookupVM(r)
	if err != nil {
		return err
	}
	if d := r.param("digest"); d != "" && d != v.digest() {
		return errors.New("checksum mismatch (file change by other user?)")
	}
	if err := v.checkLock(r); err != nil {
		return err
	}
	key := r.param("disk")
	val, ok := v.conf.get(key)
	if !ok {
		return fmt.Errorf("disk '%s' does not exist", key)
	}
	ps, err := pve.ParsePropertyString(val, "file")
	if err != nil {
		return fmt.Errorf("unable to parse drive options for '%s'", key)
	}
	if ps.Value("media") == "cdrom" {
		return errors.New("you can't resize a cdrom")
	}
	if err := w.checkResizeStorage(r, ps.Value("file")); err != nil {
		return err
	}
	_, vol, ok := w.findVolume(ps.Value("file"))
	if !ok {
		//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
		return fmt.Errorf("Could not determine current size of volume '%s'", ps.Value("file"))
	}
	want, relative, _ := parseSize(r.param("size"))
	if relative {
		want += vol.size
	}
	if want < vol.size {
		return errors.New("shrinking disks is not supported")
	}
	if want == vol.size {
		return nil
	}
	vol.size, vol.used = want, want
	ps.Set("size", formatSize(want))
	v.conf.set(key, ps.String())
	log.printfLocked("Image resized.")
	return nil
}
