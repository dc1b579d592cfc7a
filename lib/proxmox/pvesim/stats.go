package pvesim

import (
	"fmt"
	"maps"
	"time"
)

// DefaultStatsInterval is how often pvestatd writes the VMs' statistics
// that /cluster/resources reads (pve-manager PVE/Service/pvestatd.pm,
// $updatetime = 10).
const DefaultStatsInterval = 10 * time.Second

// statsExpiry is how long pmxcfs keeps an RRD entry that is no longer
// updated (pve-cluster src/pmxcfs/status.c, rrdentry_expire: 5 minutes).
const statsExpiry = 5 * time.Minute

// vmStats is one VM's entry in pvestatd's statistics: the summary fields
// as they were at the update, and when that was.
type vmStats struct {
	fields map[string]any
	at     time.Time
}

// refreshStats is one pvestatd cycle: every VM's summary, copied as it is
// now; entries of VMs gone for longer than statsExpiry are dropped, the
// others stay (an ID reused shows them until the next cycle, as on PVE).
// Caller holds the lock.
func (w *world) refreshStats(now time.Time) {
	for id, st := range w.stats {
		if _, exists := w.vms[id]; !exists && now.Sub(st.at) > statsExpiry {
			delete(w.stats, id)
		}
	}
	for id, v := range w.vms {
		fields := w.vmSummary(v, true)
		// lock and tags are read live from the config, not from the RRD.
		delete(fields, "lock")
		delete(fields, "tags")
		w.stats[id] = vmStats{fields: fields, at: now}
	}
}

// resourceEntry is a VM as /cluster/resources lists it (pve-manager
// PVE/API2/Cluster.pm, resources): PVE::API2Tools::extract_vm_stats over
// the last statistics, "unknown" with no other field for a VM without
// any, then lock and tags read live. With a zero interval it is the live
// summary. Caller holds the lock.
func (w *world) resourceEntry(v *vm) map[string]any {
	if w.statsInterval == 0 {
		return w.vmSummary(v, true)
	}
	out := map[string]any{"id": fmt.Sprintf("qemu/%d", v.vmid), "vmid": v.vmid, "node": w.node, "type": "qemu", "status": "unknown"}
	if st, ok := w.stats[v.vmid]; ok {
		maps.Copy(out, st.fields)
	}
	if tags, ok := v.conf.get("tags"); ok {
		out["tags"] = tags
	}
	if v.lock != "" {
		out["lock"] = v.lock
	}
	return out
}

// runStats refreshes the statistics every interval until stop closes.
func (s *Server) runStats(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			s.world.mu.Lock()
			s.world.refreshStats(now)
			s.world.mu.Unlock()
		}
	}
}

// Tick runs one statistics update now, as pvestatd's next cycle would:
// /cluster/resources then shows every VM as it is at this moment. Tests
// call it instead of waiting for the interval.
func (s *Server) Tick() {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	s.world.refreshStats(time.Now())
}
