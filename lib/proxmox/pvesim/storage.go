package pvesim

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// storage is a configured storage and its volumes.
type storage struct {
	StorageSetup
	content map[string]bool
	dir     string // where a file-based storage keeps its files
	volumes map[string]*volume
}

// volume is one volume of a storage.
type volume struct {
	name    string // volname, e.g. "import/talos.qcow2" or "vm-100-disk-0"
	content string
	format  string
	size    int64 // virtual size
	used    int64 // bytes on the storage
	ctime   int64
	vmid    int
	file    string // real file of a file-based volume
}

// contentList renders a storage's content types as PVE lists them.
func (s *storage) contentList() string {
	var out []string
	for c := range s.content {
		out = append(out, c)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// used is the bytes the storage's volumes take.
func (s *storage) used() int64 {
	var n int64
	for _, v := range s.volumes {
		n += v.used
	}
	return n
}

// subdir is where a file-based storage keeps a content type, relative to its path.
func subdir(content string) string {
	switch content {
	case "iso":
		return "template/iso"
	case "vztmpl":
		return "template/cache"
	case "backup":
		return "dump"
	case "import":
		return "import"
	case "snippets":
		return "snippets"
	}
	return "images"
}

// pvePath is the path of a file as PVE would report it on the node.
func (s *storage) pvePath(content, file string) string {
	return s.Path + "/" + subdir(content) + "/" + file
}

// realPath is where the simulator keeps that file.
func (s *storage) realPath(content, file string) string {
	return filepath.Join(s.dir, subdir(content), file)
}

// allocDisk creates a new disk volume for vmid on the storage and returns
// it: "vm-100-disk-0" on block storages, "100/vm-100-disk-0.raw" on file
// storages, with the lowest free disk number (freeDiskName).
func (s *storage) allocDisk(vmid int, size int64, format string) *volume {
	if format == "" || !fileBased(s.Type) {
		format = "raw"
	}
	name := s.freeDiskName(vmid, format)
	if fileBased(s.Type) {
		name = fmt.Sprintf("%d/%s", vmid, name)
	}
	v := &volume{name: name, content: "images", format: format, size: size, used: size, ctime: time.Now().Unix(), vmid: vmid}
	s.volumes[name] = v
	return v
}

// freeDiskName is pve-storage's find_free_diskname: "vm-<vmid>-disk-<n>"
// with the lowest n that no volume of vmid on the storage uses, its own
// "vm-"/"base-" disks and its linked clones ("base-9000-disk-0/vm-101-disk-1")
// alike. File storages add the format as suffix and count only disks of
// that format (get_next_vm_diskname with $add_fmt_suffix).
func (s *storage) freeDiskName(vmid int, format string) string {
	suffix := ""
	if fileBased(s.Type) {
		suffix = "." + format
	}
	re := regexp.MustCompile(fmt.Sprintf(`(vm|base)-%d-disk-(\d+)%s`, vmid, regexp.QuoteMeta(suffix)))
	used := map[int]bool{}
	for _, v := range s.volumes {
		if v.vmid != vmid || v.content != "images" {
			continue
		}
		if m := re.FindStringSubmatch(v.name); m != nil {
			n, _ := strconv.Atoi(m[2])
			used[n] = true
		}
	}
	n := 0
	for used[n] {
		n++
	}
	return fmt.Sprintf("vm-%d-disk-%d%s", vmid, n, suffix)
}

// renameToBase renames a VM's disk volume to its base volume
// ("vm-9000-disk-0" to "base-9000-disk-0"), as template_create's
// create_base does.
func (s *storage) renameToBase(vol *volume, vmid int) {
	delete(s.volumes, vol.name)
	vol.name = strings.Replace(vol.name, fmt.Sprintf("vm-%d-disk-", vmid), fmt.Sprintf("base-%d-disk-", vmid), 1)
	s.volumes[vol.name] = vol
}

// freeVolume is pve-storage's vdisk_free: it deletes the volume, unless it
// is a base volume that linked clones still use.
func (s *storage) freeVolume(vol *volume) error {
	for name := range s.volumes {
		if strings.HasPrefix(name, vol.name+"/") {
			return failed("base volume '%s' is still in use by linked clones", vol.name)
		}
	}
	delete(s.volumes, vol.name)
	return nil
}

// findVolume looks a volume ID up.
func (w *world) findVolume(volid string) (*storage, *volume, bool) {
	id, err := pve.ParseVolumeID(volid)
	if err != nil {
		return nil, nil, false
	}
	st, ok := w.storages[id.Storage]
	if !ok {
		return nil, nil, false
	}
	v, ok := st.volumes[id.Name]
	return st, v, ok
}

// cfgDigest is the digest of storage.cfg, which every storage shares.
func (w *world) cfgDigest() string {
	h := sha1.New()
	for _, id := range w.storageIDs() {
		st := w.storages[id]
		fmt.Fprintf(h, "%s: %s\n\tcontent %s\n\tpath %s\n\tdisable %v\n", st.Type, id, st.contentList(), st.Path, st.Disabled)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (w *world) storageConfigEntry(st *storage) map[string]any {
	e := map[string]any{"storage": st.ID, "type": st.Type, "content": st.contentList(), "digest": w.cfgDigest()}
	if fileBased(st.Type) {
		e["path"] = st.Path
	}
	if st.Type == "zfspool" {
		e["pool"] = "rpool/data"
		e["sparse"] = 1
	}
	if st.Disabled {
		e["disable"] = 1
	}
	return e
}

func storageConfigs(_ *Server, w *world, r *request) (any, error) {
	out := []map[string]any{}
	for _, id := range w.storageIDs() {
		st := w.storages[id]
		if t := r.param("type"); t != "" && st.Type != t {
			continue
		}
		if w.can(r.who, "/storage/"+id, true, "Datastore.Audit", "Datastore.AllocateSpace") {
			out = append(out, w.storageConfigEntry(st))
		}
	}
	return out, nil
}

// nodeStorage resolves the {node} and {storage} path variables, for the
// handlers that are not onNode (download-url, upload). Caller holds the lock.
func (w *world) nodeStorage(r *request) (*storage, error) {
	if err := w.checkNode(r.param("node")); err != nil {
		return nil, err
	}
	return w.storage(r.param("storage"))
}

func (w *world) storage(id string) (*storage, error) {
	st, ok := w.storages[id]
	if !ok {
		return nil, failed("storage '%s' does not exist", id)
	}
	return st, nil
}

func storageConfig(_ *Server, w *world, r *request) (any, error) {
	st, err := w.storage(r.param("storage"))
	if err != nil {
		return nil, err
	}
	return w.storageConfigEntry(st), nil
}

// updateStorage answers PUT /storage/{storage}. The simulator applies content
// and disable; other options are accepted and ignored.
func updateStorage(_ *Server, w *world, r *request) (any, error) {
	st, err := w.storage(r.param("storage"))
	if err != nil {
		return nil, err
	}
	if d := r.param("digest"); d != "" && d != w.cfgDigest() {
		return nil, failed("detected modified configuration - file changed by other user? Try again.")
	}
	if r.has("content") {
		content := map[string]bool{}
		for _, c := range pve.SplitTags(strings.ReplaceAll(r.param("content"), ",", ";")) {
			if !slices.Contains(contentAllowed(st.Type), c) {
				return nil, badParam("content", fmt.Sprintf("storage '%s' does not support content type '%s'", st.ID, c))
			}
			content[c] = true
		}
		st.content = content
	}
	if r.has("disable") {
		st.Disabled = r.param("disable") == "1"
	}
	for _, k := range strings.Split(r.param("delete"), ",") {
		switch k {
		case "content":
			st.content = map[string]bool{}
		case "disable":
			st.Disabled = false
		}
	}
	return map[string]string{"storage": st.ID, "type": st.Type}, nil
}

func (w *world) storageStatusEntry(st *storage) map[string]any {
	used := st.used()
	enabled, active := 1, 1
	if st.Disabled {
		enabled, active = 0, 0
	}
	return map[string]any{
		"storage": st.ID, "type": st.Type, "content": st.contentList(), "enabled": enabled, "active": active, "shared": 0,
		"total": st.TotalBytes, "used": used, "avail": st.TotalBytes - used, "used_fraction": float64(used) / float64(st.TotalBytes),
	}
}

func nodeStorages(_ *Server, w *world, r *request) (any, error) {
	out := []map[string]any{}
	for _, id := range w.storageIDs() {
		st := w.storages[id]
		if !w.can(r.who, "/storage/"+id, true, "Datastore.Audit", "Datastore.AllocateSpace") {
			continue
		}
		if c := r.param("content"); c != "" && !slices.ContainsFunc(strings.Split(c, ","), func(x string) bool { return st.content[x] }) {
			continue
		}
		if r.param("enabled") == "1" && st.Disabled {
			continue
		}
		if id2 := r.param("storage"); id2 != "" && id2 != id {
			continue
		}
		out = append(out, w.storageStatusEntry(st))
	}
	return out, nil
}

func storageStatus(_ *Server, w *world, r *request) (any, error) {
	st, err := w.storage(r.param("storage"))
	if err != nil {
		return nil, err
	}
	return w.storageStatusEntry(st), nil
}

func (st *storage) volumeEntry(v *volume) map[string]any {
	e := map[string]any{"volid": st.ID + ":" + v.name, "content": v.content, "format": v.format, "size": v.size, "ctime": v.ctime}
	if v.vmid != 0 {
		e["vmid"] = v.vmid
	}
	if v.content == "images" {
		e["used"] = v.used
	}
	return e
}

func storageContent(_ *Server, w *world, r *request) (any, error) {
	st, err := w.storage(r.param("storage"))
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, n := range slices.Sorted(maps.Keys(st.volumes)) {
		v := st.volumes[n]
		if c := r.param("content"); c != "" && v.content != c {
			continue
		}
		if id := r.param("vmid"); id != "" && strconv.Itoa(v.vmid) != id {
			continue
		}
		out = append(out, st.volumeEntry(v))
	}
	return out, nil
}

// lookupVolume resolves the {volume} path variable, with or without its
// "storage:" prefix. The caller holds the lock.
func (w *world) lookupVolume(r *request) (*storage, *volume, error) {
	st, err := w.storage(r.param("storage"))
	if err != nil {
		return nil, nil, err
	}
	name := r.param("volume")
	if id, err := pve.ParseVolumeID(name); err == nil {
		if id.Storage != st.ID {
			return nil, nil, failed("volume '%s' is not on storage '%s'", name, st.ID)
		}
		name = id.Name
	}
	v, ok := st.volumes[name]
	if !ok {
		return nil, nil, failed("volume '%s:%s' does not exist", st.ID, name)
	}
	return st, v, nil
}

func volumeInfo(_ *Server, w *world, r *request) (any, error) {
	st, v, err := w.lookupVolume(r)
	if err != nil {
		return nil, err
	}
	if !w.can(r.who, "/storage/"+st.ID, true, "Datastore.Audit", "Datastore.AllocateSpace") {
		return nil, forbidden("/storage/"+st.ID, "Datastore.Audit", "Datastore.AllocateSpace")
	}
	path := st.Path + "/" + subdir(v.content) + "/" + strings.TrimPrefix(v.name, v.content+"/")
	if !fileBased(st.Type) {
		path = "/dev/zvol/rpool/data/" + v.name
	}
	return map[string]any{"path": path, "size": v.size, "used": v.used, "format": v.format}, nil
}

func deleteVolume(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	st, v, err := w.lookupVolume(r)
	if err == nil && !w.can(r.who, "/storage/"+st.ID, false, "Datastore.Allocate") {
		err = forbidden("/storage/"+st.ID, "Datastore.Allocate")
	}
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	volid := st.ID + ":" + v.name
	return s.startTask(r.who.id, "imgdel", "", w.lockedWork(func(_ taskLog) error {
		if st.volumes[v.name] != v {
			return fmt.Errorf("volume '%s' does not exist", volid)
		}
		if v.file != "" {
			if err := os.Remove(v.file); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("unable to remove '%s': %v", volid, err)
			}
		}
		delete(st.volumes, v.name)
		return nil
	})), nil
}
