package proxmox

import (
	"strconv"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// Disk is a drive option (scsiN, virtioN, sataN): a new disk of SizeGiB, or
// one imported from a volume, with its flags.
type Disk struct {
	// Storage holds the disk.
	Storage string
	// SizeGiB is the size of a new empty disk (ignored with ImportFrom).
	SizeGiB int
	// ImportFrom is the volume ID to import, e.g. local:import/talos.qcow2.
	ImportFrom string
	// Discard passes TRIM through; SSD reports the disk as solid state;
	// IOThread gives the disk its own I/O thread (needs virtio-scsi-single).
	Discard, SSD, IOThread bool
	// Cache is the cache mode ("" for PVE's default, none).
	Cache string
}

// String renders the option: "local-zfs:0,import-from=local:import/x.qcow2,discard=on,iothread=1,ssd=1".
func (d Disk) String() string {
	p := pve.NewPropertyString("file")
	if d.ImportFrom != "" {
		p.Set("file", d.Storage+":0").Set("import-from", d.ImportFrom)
	} else {
		p.Set("file", d.Storage+":"+strconv.Itoa(d.SizeGiB))
	}
	if d.Discard {
		p.Set("discard", "on")
	}
	if d.SSD {
		p.Set("ssd", "1")
	}
	if d.IOThread {
		p.Set("iothread", "1")
	}
	if d.Cache != "" {
		p.Set("cache", d.Cache)
	}
	return p.String()
}

// EFIDisk is the efidisk0 option of an OVMF VM.
type EFIDisk struct {
	Storage string
	// PreEnrolledKeys enrolls the distribution and Microsoft keys (Secure
	// Boot on). Talos needs it off.
	PreEnrolledKeys bool
}

// String renders "local-zfs:1,efitype=4m,pre-enrolled-keys=0".
func (e EFIDisk) String() string {
	keys := "0"
	if e.PreEnrolledKeys {
		keys = "1"
	}
	return pve.NewPropertyString("file").Set("file", e.Storage+":1").Set("efitype", "4m").Set("pre-enrolled-keys", keys).String()
}

// NIC is a netN option.
type NIC struct {
	// Model is virtio, e1000, ... (default virtio).
	Model string
	// Bridge the NIC attaches to.
	Bridge string
	// MAC is the address ("" lets PVE pick one).
	MAC string
	// VLAN tag, 0 for none.
	VLAN int
	// Firewall enables the PVE firewall on the NIC.
	Firewall bool
}

// String renders "virtio,bridge=vmbr0" (or "virtio=MAC,bridge=vmbr0").
func (n NIC) String() string {
	model := n.Model
	if model == "" {
		model = "virtio"
	}
	p := pve.NewPropertyString("model").Set("model", model)
	if n.MAC != "" {
		p.Delete("model")
		p.Set(model, n.MAC)
	}
	p.Set("bridge", n.Bridge)
	if n.VLAN > 0 {
		p.Set("tag", strconv.Itoa(n.VLAN))
	}
	if n.Firewall {
		p.Set("firewall", "1")
	}
	if n.MAC != "" {
		return model + "=" + n.MAC + "," + p.String()
	}
	return p.String()
}

// PCIPassthrough is a hostpciN option through a resource mapping (tokens
// cannot pass raw PCI addresses; only root@pam can).
type PCIPassthrough struct {
	// Mapping is the PCI resource mapping's ID.
	Mapping string
	// PCIe presents the device on a PCIe port (needs machine q35).
	PCIe bool
	// PrimaryGPU makes it the VM's primary display (x-vga).
	PrimaryGPU bool
}

// String renders "mapping=rtx4000,pcie=1".
func (p PCIPassthrough) String() string {
	ps := pve.NewPropertyString("host").Set("mapping", p.Mapping)
	if p.PCIe {
		ps.Set("pcie", "1")
	}
	if p.PrimaryGPU {
		ps.Set("x-vga", "1")
	}
	return ps.String()
}
