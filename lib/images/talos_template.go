package images

import (
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
)

// TalosTemplate is what a Talos template made by ImportTalos holds, as its
// description records it.
type TalosTemplate struct {
	// Version is the Talos version, Schematic the Image Factory schematic ID.
	Version, Schematic string
}

// TalosTemplateOf reads what a VM made by ImportTalos holds from its
// config: ok only for a finished template of this project (managed tag,
// template, no lock, every disk a base volume) whose description records a
// Talos image. A half-made VM or anything else is not ok.
func TalosTemplateOf(cfg proxmox.VMConfig, vmid int) (TalosTemplate, bool) {
	m, marked := readMarker(cfg.Get("description"))
	if !cfg.HasTag(inventory.ManagedTag) || unfinished(cfg, vmid, marked) != "" || m[markerImage] != "talos" {
		return TalosTemplate{}, false
	}
	return TalosTemplate{Version: m["version"], Schematic: m["schematic"]}, true
}
