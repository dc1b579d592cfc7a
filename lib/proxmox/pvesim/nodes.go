package pvesim

import (
	"fmt"
)

// checkNode answers 500 for a node other than the simulated one, as PVE
// does when it cannot proxy to an unknown node. The caller holds the lock.
func (w *world) checkNode(node string) error {
	if node != w.node {
		return failed("hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known", node, node)
	}
	return nil
}

func nodes(s *Server, w *world, _ *request) (any, error) {
	return []map[string]any{{
		"node": w.node, "id": "node/" + w.node, "type": "node", "status": "online", "level": "",
		"cpu": 0.02, "maxcpu": w.cpus, "mem": w.memory / 10, "maxmem": w.memory, "uptime": 86400,
		"disk": 8 << 30, "maxdisk": 100 << 30, "ssl_fingerprint": s.fp,
	}}, nil
}

func nodeStatus(_ *Server, w *world, r *request) (any, error) {
	return map[string]any{
		"pveversion": "pve-manager/" + w.version + "/5e1f3f9a2b0c7d41",
		"kversion":   "Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2",
		"uptime":     86400, "cpu": 0.02,
		"cpuinfo": map[string]any{"cpus": w.cpus, "cores": w.cpus, "sockets": 1, "model": "AMD Ryzen AI 9 HX 370 w/ Radeon 890M"},
		"memory":  map[string]any{"total": w.memory, "used": w.memory / 10, "free": w.memory - w.memory/10},
	}, nil
}

func network(_ *Server, w *world, r *request) (any, error) {
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
