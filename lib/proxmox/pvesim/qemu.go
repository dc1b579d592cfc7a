package pvesim

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// vm is a QEMU VM and its configuration.
type vm struct {
	vmid int
	conf *config
	lock string
	// pending and pendingDel are the config's [PENDING] section: values
	// and deletions waiting for the next start (qemu_pending.go).
	pending    *config
	pendingDel []string
	// run is the QEMU process while the VM runs, nil when stopped.
	run *runState
	// ci records the cloud-init changes since the image was generated.
	ci cloudinitRecord
}

// config is a VM configuration: keys in the order they were written.
type config struct {
	keys []string
	vals map[string]string
}

func newConfig() *config { return &config{vals: map[string]string{}} }

func (c *config) get(k string) (string, bool) {
	v, ok := c.vals[k]
	return v, ok
}

func (c *config) set(k, v string) {
	if _, ok := c.vals[k]; !ok {
		c.keys = append(c.keys, k)
	}
	c.vals[k] = v
}

func (c *config) del(k string) {
	if _, ok := c.vals[k]; !ok {
		return
	}
	delete(c.vals, k)
	c.keys = slices.DeleteFunc(c.keys, func(x string) bool { return x == k })
}

// text renders the config file, which the digest is computed over.
func (c *config) text() string {
	keys := slices.Clone(c.keys)
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, c.vals[k])
	}
	return b.String()
}

func (c *config) digest() string {
	sum := sha1.Sum([]byte(c.text()))
	return hex.EncodeToString(sum[:])
}

// disks returns the config keys that hold a volume (scsiN, virtioN, sataN,
// ideN, efidisk0, tpmstate0, unusedN), sorted.
func (c *config) disks() []string {
	var out []string
	for _, k := range c.keys {
		if isDiskKey(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func isDiskKey(k string) bool {
	for _, p := range []string{"scsi", "virtio", "sata", "ide", "unused"} {
		if rest, ok := strings.CutPrefix(k, p); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return k == "efidisk0" || k == "tpmstate0"
}

// vmPath is the config file path PVE names in errors.
func (w *world) vmPath(vmid int) string {
	return fmt.Sprintf("nodes/%s/qemu-server/%d.conf", w.node, vmid)
}

// lookupVM finds the VM of the {vmid} path variable. Caller holds the lock
// and has checked the node (onNode).
func (w *world) lookupVM(r *request) (*vm, error) {
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

// rootOnlyParams refuses options only root@pam may set (skiplock, the power
// methods' migration and state options) to anyone else, with a 400 on the
// option, as API2/Qemu.pm's raise_param_exc does.
func rootOnlyParams(r *request, names ...string) error {
	for _, n := range names {
		if v := r.param(n); v != "" && v != "0" && r.who.id != "root@pam" {
			return badParam(n, "Only root may use this option.")
		}
	}
	return nil
}

// isTemplate reports whether the VM was converted to a template.
func (v *vm) isTemplate() bool {
	t, _ := v.conf.get("template")
	return t == "1"
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
	if v.running() {
		out["status"] = "running"
		if !cluster { // pvestatd's resource entries carry no PID
			out["pid"] = v.run.pid
		}
		out["uptime"] = int64(time.Since(v.run.started).Seconds())
		out["mem"] = mem << 20 / 2
	}
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

// listVMs answers GET /nodes/{node}/qemu: the VMs the caller may audit.
func listVMs(_ *Server, w *world, r *request) (any, error) {
	out := []map[string]any{}
	for _, id := range w.vmIDs() {
		if w.can(r.who, fmt.Sprintf("/vms/%d", id), false, "VM.Audit") {
			out = append(out, w.vmSummary(w.vms[id], false))
		}
	}
	return out, nil
}
