package pvesim

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/proxmox/pvesim/internal/schema"
)

// vmConfigTypes are the JSON types of config values, from the config
// schema; New works them out once.
func vmConfigTypes(sch *schema.Schema) map[string]string {
	m, _, ok := sch.Lookup(http.MethodPut, "/nodes/pve/qemu/100/config")
	types := map[string]string{}
	if !ok {
		return types
	}
	for name, p := range m.Parameters.Properties {
		types[strings.TrimSuffix(name, "[n]")] = p.Type
	}
	return types
}

// vmConfig answers GET .../config: the config with its digest, numbers and
// booleans typed as the config schema types them; pending changes applied
// unless current=1.
func vmConfig(s *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	conf := v.view()
	if r.param("current") == "1" {
		conf = v.conf
	}
	out := map[string]any{"digest": v.digest()}
	for _, k := range conf.keys {
		out[k] = s.typedValue(k, conf.vals[k])
	}
	if pw := conf.vals["cipassword"]; pw != "" {
		out["cipassword"] = masked
	}
	if v.lock != "" {
		out["lock"] = v.lock
	}
	return out, nil
}

// typedValue is a config value as JSON: a number where the config schema
// types the option integer, boolean or number.
func (s *Server) typedValue(k, val string) any {
	switch s.configTypes[strings.TrimRight(k, "0123456789")] {
	case "integer", "boolean":
		if n, err := strconv.ParseInt(val, 10, 64); err == nil {
			return n
		}
	case "number":
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			return f
		}
	}
	return val
}

// updateVMConfigSync answers PUT .../config: the update, disks allocated
// before the answer.
func updateVMConfigSync(_ *Server, w *world, r *request) (any, error) {
	if err := w.configPermsSync(r); err != nil {
		return nil, err
	}
	v, plans, err := w.updateConfig(r)
	if err != nil {
		return nil, err
	}
	if err := w.allocatePlans(v, plans); err != nil {
		return nil, failed("%s", err)
	}
	return nil, nil
}

// updateVMConfigAsync answers POST .../config: the update, disks allocated
// in a qmconfig task.
func updateVMConfigAsync(s *Server, w *world, r *request) (any, error) {
	if upid, stop, err := s.configPermsAsync(w, r); stop {
		return upid, err
	}
	v, plans, err := w.updateConfig(r)
	if err != nil {
		return nil, err
	}
	return s.startTaskLocked(r.who.id, "qmconfig", strconv.Itoa(v.vmid), w.lockedWork(func(_ taskLog) error {
		return w.allocatePlans(v, plans)
	})), nil
}

// allocatePlans makes the disks of a config update, in order, and writes
// them to the config; it stops at an import source that fails its check.
// Either way it settles what was written (pending or applied). Caller holds
// the lock.
func (w *world) allocatePlans(v *vm, plans []*diskPlan) error {
	defer v.settle(w)
	for _, p := range plans {
		if err := w.checkImportSource(p); err != nil {
			return err
		}
		v.write(p.key, p.allocate(v.vmid))
	}
	return nil
}

// updateConfig applies PUT/POST .../config; on a running VM what cannot
// change live becomes a pending change (qemu_pending.go). Caller holds the
// lock.
func (w *world) updateConfig(r *request) (*vm, []*diskPlan, error) {
	v, err := w.writableVM(r)
	if err != nil {
		return nil, nil, err
	}
	if d := r.param("digest"); d != "" && d != v.digest() {
		return nil, nil, failed("checksum mismatch (file change by other user?)")
	}
	plans, err := w.planDisks(r, false)
	if err != nil {
		return nil, nil, err
	}
	staged := newConfig()
	if err := w.applyOptions(r, staged, map[string]bool{"node": true, "vmid": true, "delete": true, "digest": true, "revert": true, "skiplock": true, "force": true, "background_delay": true}); err != nil {
		return nil, nil, err
	}
	revert := splitList(r.param("revert"))
	for _, k := range revert {
		if r.has(k) {
			return nil, nil, badParam("delete", fmt.Sprintf("you can't use '-%s' and -revert %s' at the same time", k, k))
		}
	}
	if pw, ok := staged.get("cipassword"); ok {
		staged.set("cipassword", hashCloudinitPassword(v.conf, pw))
	}
	for _, k := range staged.keys {
		v.write(k, staged.vals[k])
	}
	for _, k := range revert { // the current value written back drops the pending one
		if cur, ok := v.conf.get(k); ok {
			v.write(k, cur)
		} else {
			v.remove(k)
		}
	}
	for _, k := range splitList(r.param("delete")) {
		if isIndexed(k, "unused") {
			if err := w.deallocateUnused(v, k); err != nil {
				return nil, nil, err
			}
		}
		v.remove(k)
	}
	v.settle(w)
	return v, plans, nil
}

// applyOptions checks and applies non-disk options to a config: tags are
// normalized, NICs get MACs, a PCI mapping must exist (who may pass a
// device through is checked in perms_qemu.go).
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
			}
		}
		conf.set(k, v)
	}
	return nil
}

// renderNIC writes a NIC the way PVE stores it: "model=MAC" first (with a
// generated MAC when none is given), then the other keys sorted.
func renderNIC(ps *pve.PropertyString) string {
	model, mac := ps.Value("model"), ps.Value("macaddr")
	for _, m := range nicModels() {
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

// nicModels is qemu-server's $nic_model_list (QemuServer/Network.pm): each
// model is also a key of $net_fmt whose value is the MAC ("virtio=<MAC>").
func nicModels() []string {
	return []string{"e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551", "i82557b",
		"i82559er", "ne2k_isa", "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3"}
}

// macAddress returns a MAC in Proxmox's BC:24:11 range.
func macAddress() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("BC:24:11:%02X:%02X:%02X", b[0], b[1], b[2])
}

// splitList splits a PVE option list (PVE::Tools::split_list: commas,
// semicolons and spaces).
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
}
