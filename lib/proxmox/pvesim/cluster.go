package pvesim

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

func version(_ *Server, w *world, _ *request) (any, error) {
	v := w.version
	release := v
	if parts := strings.Split(v, "."); len(parts) >= 2 {
		release = parts[0] + "." + parts[1]
	}
	return map[string]string{"version": v, "release": release, "repoid": "5e1f3f9a2b0c7d41"}, nil
}

func clusterStatus(_ *Server, w *world, _ *request) (any, error) {
	return []map[string]any{{
		"type": "node", "id": "node/" + w.node, "name": w.node, "ip": "127.0.0.1", "local": 1, "nodeid": 0, "online": 1, "level": "",
	}}, nil
}

// nextID answers the next free VM ID as a string, as PVE does, or 400 when
// the asked-for ID is taken.
func nextID(_ *Server, w *world, r *request) (any, error) {
	if v := r.param("vmid"); v != "" {
		id, _ := strconv.Atoi(v)
		if _, taken := w.vms[id]; taken {
			return nil, badParam("vmid", fmt.Sprintf("VM %d already exists", id))
		}
		return v, nil
	}
	return strconv.Itoa(w.freeVMID()), nil
}

// resources answers GET /cluster/resources: the node, the storages and the
// VMs the caller may audit. The VMs are every VM that exists now, with
// their fields from the last statistics update (resourceEntry).
func resources(_ *Server, w *world, r *request) (any, error) {
	typ := r.param("type")
	out := []map[string]any{}
	if typ == "" || typ == "node" {
		if w.can(r.who, "/nodes/"+w.node, false, "Sys.Audit") {
			out = append(out, map[string]any{"id": "node/" + w.node, "type": "node", "node": w.node, "status": "online",
				"maxcpu": w.cpus, "maxmem": w.memory})
		}
	}
	if typ == "" || typ == "storage" {
		for _, id := range w.storageIDs() {
			st := w.storages[id]
			if !w.can(r.who, "/storage/"+id, true, "Datastore.Audit", "Datastore.AllocateSpace") {
				continue
			}
			out = append(out, map[string]any{"id": "storage/" + w.node + "/" + id, "type": "storage", "node": w.node,
				"storage": id, "plugintype": st.Type, "content": st.contentList(), "status": "available",
				"disk": st.used(), "maxdisk": st.TotalBytes, "shared": 0})
		}
	}
	if typ == "" || typ == "vm" {
		for _, id := range w.vmIDs() {
			if !w.can(r.who, fmt.Sprintf("/vms/%d", id), false, "VM.Audit") {
				continue
			}
			out = append(out, w.resourceEntry(w.vms[id]))
		}
	}
	return out, nil
}

func pciMappings(_ *Server, w *world, r *request) (any, error) {
	out := []map[string]any{}
	for _, id := range slices.Sorted(maps.Keys(w.mappings)) {
		if !w.can(r.who, "/mapping/pci/"+id, true, "Mapping.Modify", "Mapping.Use", "Mapping.Audit") {
			continue
		}
		out = append(out, w.mappingEntry(w.mappings[id]))
	}
	return out, nil
}

func pciMapping(_ *Server, w *world, r *request) (any, error) {
	m, ok := w.mappings[r.param("id")]
	if !ok {
		return nil, failed("PCI mapping '%s' does not exist", r.param("id"))
	}
	return w.mappingEntry(m), nil
}

func (w *world) mappingEntry(m PCIMapping) map[string]any {
	return map[string]any{
		"id": m.ID, "type": "pci", "description": m.Description, "digest": strings.Repeat("0", 40),
		"map": []string{fmt.Sprintf("id=%s,iommugroup=14,node=%s,path=%s", m.DeviceID, w.node, m.Path)},
	}
}
