package pvesim

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

func version(s *Server, _ *request) (any, error) {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	v := s.world.version
	release := v
	if parts := strings.Split(v, "."); len(parts) >= 2 {
		release = parts[0] + "." + parts[1]
	}
	return map[string]string{"version": v, "release": release, "repoid": "5e1f3f9a2b0c7d41"}, nil
}

// checkNode answers 500 for a node other than the simulated one, as PVE
// does when it cannot proxy to an unknown node. The caller holds the lock.
func (w *world) checkNode(node string) error {
	if node != w.node {
		return failed("hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known", node, node)
	}
	return nil
}

func nodes(s *Server, _ *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	return []map[string]any{{
		"node": w.node, "id": "node/" + w.node, "type": "node", "status": "online", "level": "",
		"cpu": 0.02, "maxcpu": w.cpus, "mem": w.memory / 10, "maxmem": w.memory, "uptime": 86400,
		"disk": 8 << 30, "maxdisk": 100 << 30, "ssl_fingerprint": s.fp,
	}}, nil
}

func nodeStatus(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkNode(r.param("node")); err != nil {
		return nil, err
	}
	return map[string]any{
		"pveversion": "pve-manager/" + w.version + "/5e1f3f9a2b0c7d41",
		"kversion":   "Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2",
		"uptime":     86400, "cpu": 0.02,
		"cpuinfo": map[string]any{"cpus": w.cpus, "cores": w.cpus, "sockets": 1, "model": "AMD Ryzen AI 9 HX 370 w/ Radeon 890M"},
		"memory":  map[string]any{"total": w.memory, "used": w.memory / 10, "free": w.memory - w.memory/10},
	}, nil
}

func clusterStatus(s *Server, _ *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	return []map[string]any{{
		"type": "node", "id": "node/" + w.node, "name": w.node, "ip": "127.0.0.1", "local": 1, "nodeid": 0, "online": 1, "level": "",
	}}, nil
}

// nextID answers the next free VM ID as a string, as PVE does, or 400 when
// the asked-for ID is taken.
func nextID(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
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
// VMs the caller may audit.
func resources(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
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
			out = append(out, w.vmSummary(w.vms[id], true))
		}
	}
	return out, nil
}

func (w *world) storageIDs() []string { return slices.Sorted(maps.Keys(w.storages)) }

func (w *world) vmIDs() []int { return slices.Sorted(maps.Keys(w.vms)) }

func pciMappings(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []map[string]any{}
	for _, id := range slices.Sorted(maps.Keys(w.mappings)) {
		if !w.can(r.who, "/mapping/pci/"+id, true, "Mapping.Modify", "Mapping.Use", "Mapping.Audit") {
			continue
		}
		out = append(out, w.mappingEntry(w.mappings[id]))
	}
	return out, nil
}

func pciMapping(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
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

func network(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkNode(r.param("node")); err != nil {
		return nil, err
	}
	out := []map[string]any{}
	if typ := r.param("type"); typ == "" || typ == "any_bridge" || typ == "bridge" {
		for i, b := range w.bridges {
			out = append(out, map[string]any{"iface": b, "type": "bridge", "active": 1, "autostart": 1,
				"bridge_ports": fmt.Sprintf("enp%ds0", 5+i), "bridge_stp": "off", "bridge_fd": "0", "families": []string{"inet"},
				"method": "static", "method6": "manual", "priority": 3 + i})
		}
	}
	if typ := r.param("type"); typ == "" || typ == "eth" {
		out = append(out, map[string]any{"iface": "enp5s0", "type": "eth", "active": 1, "families": []string{"inet"},
			"method": "manual", "method6": "manual", "priority": 2, "exists": 1})
	}
	return out, nil
}

// hasBridge reports whether the node has the bridge.
func (w *world) hasBridge(name string) bool { return slices.Contains(w.bridges, name) }
