package pvesim

import (
	"strings"

	"github.com/wdiazux/infra/lib/inventory"
)

// SetupFor is a fresh Proxmox VE 9 host as the inventory describes it: its
// node name, capacity, bridge and storages (the import and ISO storages as
// directories, the disk storage as zfspool or lvmthin by its name), with
// "import" content off, as a real install has it. With prepared, the host
// is what proxmox:preflight asks for: import content on, and a PCI mapping
// for every GPU the inventory passes through.
func SetupFor(inv *inventory.Inventory, prepared bool) Setup {
	s := DefaultSetup()
	px := inv.Proxmox
	s.Node = px.Node
	s.CPUs = px.Hardware.Cores
	s.MemoryBytes = int64(px.Hardware.MemoryGiB) << 30
	s.Bridges = []string{px.Bridge}
	s.DNSServers = nil
	for _, a := range inv.Network.DNSServers {
		s.DNSServers = append(s.DNSServers, a.String())
	}
	s.SearchDomains = inv.Network.SearchDomains
	if len(s.SearchDomains) == 0 && inv.Network.Domain != "" {
		s.SearchDomains = []string{inv.Network.Domain}
	}
	s.Storages = nil
	seen := map[string]bool{}
	addDir := func(id string, content ...string) {
		if seen[id] {
			for i := range s.Storages {
				if s.Storages[i].ID == id {
					s.Storages[i].Content = appendMissing(s.Storages[i].Content, content...)
				}
			}
			return
		}
		seen[id] = true
		path := "/mnt/pve/" + id
		if id == "local" {
			path = "/var/lib/vz"
		}
		s.Storages = append(s.Storages, StorageSetup{ID: id, Type: "dir", Path: path, Content: content})
	}
	addDir(px.Storage.Import, "iso", "vztmpl", "backup")
	addDir(px.Storage.ISO, "iso")
	if !seen[px.Storage.Disks] {
		typ := "dir"
		switch {
		case strings.Contains(px.Storage.Disks, "zfs"):
			typ = "zfspool"
		case strings.Contains(px.Storage.Disks, "lvm"):
			typ = "lvmthin"
		}
		s.Storages = append(s.Storages, StorageSetup{ID: px.Storage.Disks, Type: typ, Content: []string{"images", "rootdir"}, Path: "/mnt/pve/" + px.Storage.Disks})
	} else {
		addDir(px.Storage.Disks, "images")
	}
	if prepared {
		addDir(px.Storage.Import, "import")
		for _, n := range inv.Talos.Nodes {
			if n.GPU.Enabled && len(n.GPU.PCI) > 0 {
				path := n.GPU.PCI[0]
				if !strings.HasPrefix(path, "0000:") {
					path = "0000:" + path
				}
				s.PCIMappings = append(s.PCIMappings, PCIMapping{ID: n.GPU.Mapping, Path: strings.SplitN(path, ".", 2)[0], DeviceID: "10de:27b0", Description: "GPU of " + n.Name})
			}
		}
	}
	return s
}

func appendMissing(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, x := range list {
			found = found || x == it
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}
