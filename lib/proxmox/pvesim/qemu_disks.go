package pvesim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// driveKeys lists the drive options in the order PVE processes them.
func driveKeys() []string {
	var keys []string
	for i := 0; i <= 3; i++ {
		keys = append(keys, fmt.Sprintf("ide%d", i))
	}
	for i := 0; i <= 5; i++ {
		keys = append(keys, fmt.Sprintf("sata%d", i))
	}
	for i := 0; i <= 30; i++ {
		keys = append(keys, fmt.Sprintf("scsi%d", i))
	}
	for i := 0; i <= 15; i++ {
		keys = append(keys, fmt.Sprintf("virtio%d", i))
	}
	return append(keys, "efidisk0", "tpmstate0")
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

// planDisks plans every drive option of a create or config update, in the
// order PVE processes them; options planDisk keeps as they are come back
// without a storage. Caller holds the lock.
func (w *world) planDisks(r *request, vmid int) ([]*diskPlan, error) {
	var plans []*diskPlan
	for _, key := range driveKeys() {
		value, ok := r.params[key]
		if !ok {
			continue
		}
		plan, err := w.planDisk(r, vmid, key, value)
		if err != nil {
			return nil, err
		}
		if plan == nil {
			plan = &diskPlan{key: key, ps: mustProp(value)}
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// planDisk checks one drive option of a create or config update and says
// what to allocate. Existing volumes and CD-ROMs are kept as they are.
// Caller holds the lock.
func (w *world) planDisk(r *request, vmid int, key, value string) (*diskPlan, error) {
	ps, err := pve.ParsePropertyString(value, "file")
	if err != nil {
		return nil, badParam(key, "invalid format - "+err.Error())
	}
	file := ps.Value("file")
	src, importing := ps.Get("import-from")
	if file == "none" || file == "cdrom" || strings.HasPrefix(file, "/") {
		return nil, nil
	}
	stID, rest, _ := strings.Cut(file, ":")
	isAlloc := rest == "cloudinit" || sizeOnly(rest)
	if importing && rest != "0" {
		return nil, badParam(key, "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>")
	}
	if !isAlloc {
		_, vol, ok := w.findVolume(file)
		if !ok {
			return nil, failed("volume '%s' does not exist", file)
		}
		if vol.content == "iso" {
			ps.Set("media", "cdrom")
		}
		return &diskPlan{key: key, ps: ps}, nil
	}
	st, ok := w.storages[stID]
	if !ok {
		return nil, badParam("storage", fmt.Sprintf("storage '%s' does not exist", stID))
	}
	if !st.content["images"] {
		return nil, badParam("storage", fmt.Sprintf("storage '%s' does not support vm images", stID))
	}
	if !w.can(r.who, "/storage/"+stID, false, "Datastore.AllocateSpace") {
		return nil, forbidden("/storage/"+stID, "Datastore.AllocateSpace")
	}
	plan := &diskPlan{key: key, ps: ps, storage: st, cloud: rest == "cloudinit"}
	switch {
	case importing:
		if strings.HasPrefix(src, "/") {
			if r.who.id != "root@pam" {
				return nil, forbidden("/", "Sys.Console")
			}
			return nil, badParam(key, "importing from an absolute path is not supported by the simulator")
		}
		srcSt, vol, ok := w.findVolume(src)
		if !ok {
			return nil, badParam(key, fmt.Sprintf("volume '%s' does not exist", src))
		}
		if vol.content != "images" && vol.content != "import" {
			return nil, badParam(key, fmt.Sprintf("volume '%s' has wrong type '%s' - needs to be 'images' or 'import'", src, vol.content))
		}
		if !w.can(r.who, "/storage/"+srcSt.ID, true, "Datastore.Audit", "Datastore.AllocateSpace") {
			return nil, forbidden("/storage/"+srcSt.ID, "Datastore.Audit", "Datastore.AllocateSpace")
		}
		plan.source, plan.size = src, vol.size
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
	vol := p.storage.allocDisk(vmid, p.size, "", "vm")
	p.ps.Delete("import-from")
	p.ps.Set("file", p.storage.ID+":"+vol.name).Set("size", formatSize(p.size))
	return p.ps.String()
}

// mustProp parses a drive value the planner keeps as it is, or wraps it
// whole as the file.
func mustProp(v string) *pve.PropertyString {
	ps, err := pve.ParsePropertyString(v, "file")
	if err != nil {
		return pve.NewPropertyString("file").Set("file", v)
	}
	return ps
}

// resizeDisk answers PUT .../qemu/{vmid}/resize: grows a disk (never shrinks)
// in a resize task.
func resizeDisk(s *Server, w *world, r *request) (any, error) {
	v, err := w.writableVM(r)
	if err != nil {
		return nil, err
	}
	if d := r.param("digest"); d != "" && d != v.conf.digest() {
		return nil, failed("detected modified configuration - file changed by other user? Try again.")
	}
	key := r.param("disk")
	val, ok := v.conf.get(key)
	if !ok {
		return nil, failed("disk '%s' does not exist", key)
	}
	ps, _ := pve.ParsePropertyString(val, "file")
	if ps == nil || ps.Value("media") == "cdrom" {
		return nil, failed("you can't resize a cdrom")
	}
	if v.isTemplate() {
		return nil, failed("you can't resize a template")
	}
	cur, _, _ := parseSize(ps.Value("size"))
	want, relative, _ := parseSize(r.param("size"))
	if relative {
		want += cur
	}
	if want < cur {
		return nil, failed("shrinking disks is not supported")
	}
	vmid := v.vmid
	return s.startTaskLocked(r.who.id, "resize", strconv.Itoa(vmid), w.lockedWork(func(log taskLog) error {
		if want == cur {
			return nil
		}
		_, vol, ok := w.findVolume(ps.Value("file"))
		if ok {
			vol.size, vol.used = want, want
		}
		ps.Set("size", formatSize(want))
		v.conf.set(key, ps.String())
		log.printfLocked("Image resized.")
		return nil
	})), nil
}
