package pvesim

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
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

var sizeRe = regexp.MustCompile(`^(\+)?(\d+(?:\.\d+)?)([KMGT])?$`)

// parseSize reads "32G", "3584M", "+10G" (bytes without a unit).
func parseSize(s string) (bytes int64, relative bool, ok bool) {
	m := sizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false, false
	}
	f, _ := strconv.ParseFloat(m[2], 64)
	mult := map[string]float64{"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m[3]]
	return int64(f * mult), m[1] == "+", true
}

// formatSize writes a size the way PVE's config shows it: "32G", "3584M", "528K".
func formatSize(n int64) string {
	for _, u := range []struct {
		unit string
		size int64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.unit
		}
	}
	return strconv.FormatInt(n, 10)
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// macAddress returns a MAC in Proxmox's BC:24:11 range.
func macAddress() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("BC:24:11:%02X:%02X:%02X", b[0], b[1], b[2])
}

// vmPath is the config file path PVE names in errors.
func (w *world) vmPath(vmid int) string {
	return fmt.Sprintf("nodes/%s/qemu-server/%d.conf", w.node, vmid)
}

// lookupVM finds the VM of the {vmid} path variable. Caller holds the lock.
func (w *world) lookupVM(r *request) (*vm, error) {
	if err := w.checkNode(r.param("node")); err != nil {
		return nil, err
	}
	id, _ := strconv.Atoi(r.param("vmid"))
	v, ok := w.vms[id]
	if !ok {
		return nil, failed("Configuration file '%s' does not exist", w.vmPath(id))
	}
	return v, nil
}

// writableVM finds the VM of the {vmid} path variable and refuses a locked
// one. Caller holds the lock.
func (w *world) writableVM(r *request) (*vm, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	if err := v.checkLock(r); err != nil {
		return nil, err
	}
	return v, nil
}

// checkLock refuses to touch a locked VM, unless root@pam asks to skip it.
func (v *vm) checkLock(r *request) error {
	if v.lock != "" && !(r.param("skiplock") == "1" && r.who.id == "root@pam") {
		return failed("VM is locked (%s)", v.lock)
	}
	return nil
}

func (v *vm) isTemplate() bool {
	t, _ := v.conf.get("template")
	return t == "1"
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

// applyOptions checks and applies non-disk options to a config: tags are
// normalized, NICs get MACs, PCI passthrough needs a mapping (or root).
// Caller holds the lock.
func (w *world) applyOptions(r *request, conf *config, skip map[string]bool) error {
	for _, k := range slices.Sorted(maps.Keys(r.params)) {
		v := r.params[k]
		if skip[k] || isDiskKey(k) {
			continue
		}
		switch {
		case k == "tags":
			tags, err := pve.NormalizeTags(v)
			if err != nil {
				return badParam(k, err.Error())
			}
			v = tags
		case strings.HasPrefix(k, "net"):
			ps, err := pve.ParsePropertyString(v, "model")
			if err != nil {
				return badParam(k, "invalid format - "+err.Error())
			}
			if br := ps.Value("bridge"); br != "" && !w.can(r.who, "/sdn/zones/localnetwork/"+br, false, "SDN.Use") {
				return forbidden("/sdn/zones/localnetwork/"+br, "SDN.Use")
			}
			v = renderNIC(ps)
		case strings.HasPrefix(k, "hostpci"):
			ps, err := pve.ParsePropertyString(v, "host")
			if err != nil {
				return badParam(k, "invalid format - "+err.Error())
			}
			if m := ps.Value("mapping"); m != "" {
				if _, ok := w.mappings[m]; !ok {
					return failed("PCI mapping '%s' does not exist", m)
				}
				if !w.can(r.who, "/mapping/pci/"+m, false, "Mapping.Use") {
					return forbidden("/mapping/pci/"+m, "Mapping.Use")
				}
			} else if r.who.id != "root@pam" {
				return &apiError{status: http.StatusForbidden, msg: fmt.Sprintf("only root can set '%s' config for real devices", k)}
			}
		}
		conf.set(k, v)
	}
	return nil
}

// createVM answers POST /nodes/{node}/qemu: checks synchronously, registers
// the VM locked "create", then allocates and imports disks in a qmcreate task.
func createVM(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkNode(r.param("node")); err != nil {
		return nil, err
	}
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
	upid := s.startTaskLocked(r.who.id, "qmcreate", strconv.Itoa(vmid), func(ctx context.Context, log taskLog) error {
		w.mu.Lock()
		defer w.mu.Unlock()
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
	}, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.removeVM(vmid)
	})
	return upid, nil
}

// renderNIC writes a NIC the way PVE stores it: "model=MAC" first (with a
// generated MAC when none is given), then the other keys sorted.
func renderNIC(ps *pve.PropertyString) string {
	model, mac := ps.Value("model"), ps.Value("macaddr")
	for _, m := range []string{"virtio", "e1000", "e1000e", "rtl8139", "vmxnet3"} {
		if v, ok := ps.Get(m); ok {
			model, mac = m, v
			ps.Delete(m)
		}
	}
	ps.Delete("model")
	ps.Delete("macaddr")
	if mac == "" {
		mac = macAddress()
	}
	if rest := ps.String(); rest != "" {
		return model + "=" + mac + "," + rest
	}
	return model + "=" + mac
}

func mustProp(v string) *pve.PropertyString {
	ps, err := pve.ParsePropertyString(v, "file")
	if err != nil {
		return pve.NewPropertyString("file").Set("file", v)
	}
	return ps
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

// removeVM deletes a VM and every volume it owns. Caller holds the lock.
func (w *world) removeVM(vmid int) {
	delete(w.vms, vmid)
	for _, st := range w.storages {
		for name, vol := range st.volumes {
			if vol.vmid == vmid && vol.content == "images" {
				delete(st.volumes, name)
			}
		}
	}
}

func destroyVM(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
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
	return s.startTaskLocked(r.who.id, "qmdestroy", strconv.Itoa(vmid), func(ctx context.Context, log taskLog) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.removeVM(vmid)
		if r.param("purge") == "1" {
			log.printfLocked("purging VM %d from related configurations..", vmid)
		}
		return nil
	}, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if v, ok := w.vms[vmid]; ok {
			v.lock = ""
		}
	}), nil
}

// configTypes are the JSON types of config values, from the config schema.
func (s *Server) configTypes() map[string]string {
	m, _, ok := s.schema.Lookup(http.MethodPut, "/nodes/pve/qemu/100/config")
	types := map[string]string{}
	if !ok {
		return types
	}
	for name, p := range m.Parameters.Properties {
		types[strings.TrimSuffix(name, "[n]")] = p.Type
	}
	return types
}

func vmConfig(s *Server, r *request) (any, error) {
	types := s.configTypes()
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"digest": v.conf.digest()}
	for _, k := range v.conf.keys {
		val := v.conf.vals[k]
		switch types[strings.TrimRight(k, "0123456789")] {
		case "integer", "boolean":
			if n, err := strconv.ParseInt(val, 10, 64); err == nil {
				out[k] = n
				continue
			}
		case "number":
			if f, err := strconv.ParseFloat(val, 64); err == nil {
				out[k] = f
				continue
			}
		}
		out[k] = val
	}
	if v.lock != "" {
		out["lock"] = v.lock
	}
	return out, nil
}

// updateConfig applies PUT/POST .../config. Caller holds the lock.
func (s *Server) updateConfig(r *request) (*vm, []*diskPlan, error) {
	w := s.world
	v, err := w.writableVM(r)
	if err != nil {
		return nil, nil, err
	}
	if d := r.param("digest"); d != "" && d != v.conf.digest() {
		return nil, nil, failed("detected modified configuration - file changed by other user? Try again.")
	}
	var plans []*diskPlan
	for _, key := range driveKeys() {
		value, ok := r.params[key]
		if !ok {
			continue
		}
		plan, err := w.planDisk(r, v.vmid, key, value)
		if err != nil {
			return nil, nil, err
		}
		if plan == nil {
			plan = &diskPlan{key: key, ps: mustProp(value)}
		}
		plans = append(plans, plan)
	}
	staged := newConfig()
	if err := w.applyOptions(r, staged, map[string]bool{"node": true, "vmid": true, "delete": true, "digest": true, "revert": true, "skiplock": true, "force": true, "background_delay": true}); err != nil {
		return nil, nil, err
	}
	for _, k := range staged.keys {
		v.conf.set(k, staged.vals[k])
	}
	for _, k := range strings.FieldsFunc(r.param("delete"), func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if val, ok := v.conf.get(k); ok && isDiskKey(k) && !strings.HasPrefix(k, "unused") && !strings.Contains(val, "media=cdrom") {
			for i := 0; ; i++ {
				if _, used := v.conf.get(fmt.Sprintf("unused%d", i)); !used {
					v.conf.set(fmt.Sprintf("unused%d", i), strings.SplitN(val, ",", 2)[0])
					break
				}
			}
		}
		v.conf.del(k)
	}
	return v, plans, nil
}

func updateVMConfigSync(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	v, plans, err := s.updateConfig(r)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		v.conf.set(p.key, p.allocate(v.vmid))
	}
	return nil, nil
}

func updateVMConfigAsync(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	v, plans, err := s.updateConfig(r)
	if err != nil {
		return nil, err
	}
	return s.startTaskLocked(r.who.id, "qmconfig", strconv.Itoa(v.vmid), func(ctx context.Context, log taskLog) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, p := range plans {
			v.conf.set(p.key, p.allocate(v.vmid))
		}
		return nil
	}), nil
}

func vmStatus(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	out := w.vmSummary(v, false)
	out["qmpstatus"] = "stopped"
	out["ha"] = map[string]any{"managed": 0}
	return out, nil
}

// vmSummary is a VM as lists show it. Caller holds the lock.
func (w *world) vmSummary(v *vm, cluster bool) map[string]any {
	name, _ := v.conf.get("name")
	if name == "" {
		name = fmt.Sprintf("VM %d", v.vmid)
	}
	mem := int64(512)
	if m, ok := v.conf.get("memory"); ok {
		ps, _ := pve.ParsePropertyString(m, "current")
		if ps != nil {
			mem, _ = strconv.ParseInt(ps.Value("current"), 10, 64)
		}
	}
	cores, sockets := 1, 1
	if c, ok := v.conf.get("cores"); ok {
		cores, _ = strconv.Atoi(c)
	}
	if sk, ok := v.conf.get("sockets"); ok {
		sockets, _ = strconv.Atoi(sk)
	}
	var maxdisk int64
	for _, k := range v.conf.disks() {
		val, _ := v.conf.get(k)
		if strings.HasPrefix(k, "efidisk") || strings.HasPrefix(k, "tpmstate") || strings.HasPrefix(k, "unused") || strings.Contains(val, "media=cdrom") {
			continue
		}
		ps, _ := pve.ParsePropertyString(val, "file")
		if ps != nil {
			if n, _, ok := parseSize(ps.Value("size")); ok && maxdisk == 0 {
				maxdisk = n
			}
		}
	}
	out := map[string]any{"vmid": v.vmid, "name": name, "status": "stopped", "maxmem": mem << 20,
		"maxdisk": maxdisk, "cpus": cores * sockets, "uptime": 0, "cpu": 0, "mem": 0, "disk": 0}
	if tags, ok := v.conf.get("tags"); ok {
		out["tags"] = tags
	}
	if v.isTemplate() {
		out["template"] = 1
	}
	if v.lock != "" {
		out["lock"] = v.lock
	}
	if cluster {
		out["id"] = fmt.Sprintf("qemu/%d", v.vmid)
		out["type"] = "qemu"
		out["node"] = w.node
		out["maxcpu"] = cores * sockets
		if !v.isTemplate() {
			out["template"] = 0
		}
	}
	return out
}

func listVMs(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkNode(r.param("node")); err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, id := range w.vmIDs() {
		if w.can(r.who, fmt.Sprintf("/vms/%d", id), false, "VM.Audit") {
			out = append(out, w.vmSummary(w.vms[id], false))
		}
	}
	return out, nil
}

func resizeDisk(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
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
	return s.startTaskLocked(r.who.id, "resize", strconv.Itoa(vmid), func(ctx context.Context, log taskLog) error {
		w.mu.Lock()
		defer w.mu.Unlock()
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
	}), nil
}

func convertToTemplate(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.writableVM(r)
	if err != nil {
		return nil, err
	}
	if v.isTemplate() {
		return nil, failed("you can't convert a template to a template")
	}
	v.lock = "template"
	vmid := v.vmid
	return s.startTaskLocked(r.who.id, "qmtemplate", strconv.Itoa(vmid), func(ctx context.Context, log taskLog) error {
		w.mu.Lock()
		defer w.mu.Unlock()
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
	}, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		v.lock = ""
	}), nil
}

func cloneVM(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
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
	return s.startTaskLocked(r.who.id, "qmclone", strconv.Itoa(srcID), func(ctx context.Context, log taskLog) error {
		w.mu.Lock()
		defer w.mu.Unlock()
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
	}, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.removeVM(newid)
	}), nil
}
