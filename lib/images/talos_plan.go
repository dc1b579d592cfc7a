package images

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
)

// plan inspects the host and the factory, reading only, and lists the
// import's steps with the calls each will send.
func (t *talosImport) plan(ctx context.Context) (plan.Plan, error) {
	action, holder, err := t.inspect(ctx)
	if err != nil {
		return plan.Plan{}, err
	}
	p := plan.Plan{Action: action}
	if action == plan.Unchanged {
		// A finished template of the same image: nothing to do, unless
		// -verify is asked to pin a checksum that is not pinned yet.
		if t.opts.Verify && t.rep.Checksum == "" {
			p.Steps = []plan.Step{t.registerSchematic(), t.pinChecksum()}
		}
		return p, nil
	}
	if err := t.checkFactory(ctx); err != nil {
		return plan.Plan{}, err
	}
	// The factory serves images only of schematics it knows: register first.
	p.Steps = append(p.Steps, t.registerSchematic())
	if t.opts.Verify {
		p.Steps = append(p.Steps, t.pinChecksum())
	}
	px := t.inv.Proxmox
	storage, err := t.pve.FindStorage(ctx, px.Node, px.Storage.Import)
	if err != nil {
		return plan.Plan{}, err
	}
	download, err := t.download(ctx, storage)
	if err != nil {
		return plan.Plan{}, err
	}
	p.Steps = append(p.Steps, t.enableImport(storage), download)
	if action == plan.Repair || action == plan.Replace {
		p.Steps = append(p.Steps, t.removeOld(holder))
	}
	p.Steps = append(p.Steps, t.createVM(t.rep.Name, "scsi0", t.systemDisk(), t.params), t.resizeDisk(), t.convertToTemplate(t.rep.Name))
	return p, nil
}

// registerSchematic registers the schematic and checks the factory's ID.
func (t *talosImport) registerSchematic() plan.Step {
	id := t.rep.SchematicID
	return plan.Step{
		Name:   StepSchematic,
		Detail: id,
		Calls:  []plan.Call{{Method: http.MethodPost, Base: t.factory.URL(""), Path: "/schematics", Note: "schematic " + short(id)}},
		Run: func(ctx context.Context, _ plan.Progress) (string, error) {
			if _, err := t.factory.CreateSchematic(ctx, t.schematic); err != nil {
				return "", err
			}
			return "schematic " + short(id) + " registered, ID checked", nil
		},
	}
}

// pinChecksum streams the image through this machine and pins its
// checksum, or checks it against the pin. It reads only from the factory.
func (t *talosImport) pinChecksum() plan.Step {
	return plan.Step{Name: StepPinChecksum, Detail: "streaming " + t.rep.ImageURL, Metered: true, Run: t.pin}
}

func (t *talosImport) pin(ctx context.Context, progress plan.Progress) (string, error) {
	tc := t.inv.Talos
	_, sum, err := t.factory.Digest(ctx, t.rep.ImageURL, func(done, total int64) {
		if total > 0 {
			progress(float64(done)*100/float64(total), "sha256 of the factory image")
		}
	})
	if err != nil {
		return "", err
	}
	if t.rep.Checksum != "" {
		if sum != t.rep.Checksum {
			return "", fmt.Errorf("%w: the factory now serves %s for Talos %s (schematic %s), but %s pins %s; check why before you change the pin",
				proxmox.ErrChecksumMismatch, sum, tc.Version, short(t.rep.SchematicID), t.lock.Path(), t.rep.Checksum)
		}
		return "sha256 " + sum + " matches the pin", nil
	}
	if err := t.lock.Pin("talos", tc.Version, t.rep.SchematicID, talosImageFile, sum); err != nil {
		return "", err
	}
	t.rep.Checksum = sum
	return "pinned sha256 " + sum + " in " + t.lock.Path(), nil
}

// download has PVE download the factory image, with the pinned checksum
// when there is one (a -verify step before it may pin it).
func (t *talosImport) download(ctx context.Context, storage proxmox.Storage) (plan.Step, error) {
	sum := t.rep.Checksum
	return t.vmImport.download(ctx, storage, fetch{url: t.rep.ImageURL, checksum: sum, algorithm: algorithm(sum), verifiable: t.opts.Verify,
		mismatch:   "the pin is in " + t.lock.Path() + " (the factory serves other bytes than when it was pinned: check why before you re-pin)",
		unverified: " (no checksum pinned yet: run with -verify to pin one)",
		current:    func() (string, string) { return t.rep.Checksum, algorithm(t.rep.Checksum) }})
}

func algorithm(sum string) string {
	if sum == "" {
		return ""
	}
	return "sha256"
}

// systemDisk is scsi0, imported from the downloaded image.
func (t *talosImport) systemDisk() string {
	return t.importedDisk(t.inv.Proxmox.Storage.Disks, true)
}

// params are the template VM's settings: what a Talos node needs. They are
// read when the VM is created, after a -verify run pinned the checksum.
func (t *talosImport) params() proxmox.Params {
	inv, tc := t.inv, t.inv.Talos
	cp := tc.ControlPlanes()[0]
	return proxmox.Params{
		"name":        t.rep.Name,
		"machine":     "q35",
		"bios":        "ovmf",
		"efidisk0":    proxmox.EFIDisk{Storage: inv.Proxmox.Storage.Disks}.String(),
		"cpu":         "host",
		"cores":       cp.Cores,
		"memory":      fmt.Sprint(cp.MemoryMiB),
		"ostype":      "l26",
		"scsihw":      "virtio-scsi-single",
		"scsi0":       t.systemDisk(),
		"boot":        "order=scsi0",
		"net0":        proxmox.NIC{Bridge: inv.Proxmox.Bridge}.String(),
		"agent":       "enabled=1",
		"tags":        strings.Join([]string{"talos", "kubernetes", tc.Version, inventory.ManagedTag}, ";"),
		"description": description(tc.Version, t.rep.SchematicID, t.rep.Extensions, t.rep.ImageURL, t.rep.Checksum),
	}
}

// diskSize is the template's disk: the smallest system disk of the nodes,
// since a clone can grow a disk but never shrink it.
func (t *talosImport) diskSize() string {
	size := t.inv.Talos.Nodes[0].OSDiskGiB
	for _, n := range t.inv.Talos.Nodes {
		size = min(size, n.OSDiskGiB)
	}
	return fmt.Sprintf("%dG", size)
}

// resizeDisk grows the system disk.
func (t *talosImport) resizeDisk() plan.Step {
	size := t.diskSize()
	return plan.Step{
		Name:   StepResize,
		Detail: "scsi0 to " + size,
		Calls: []plan.Call{{Method: http.MethodPut, Path: t.vmPath() + "/resize",
			Params: []plan.Param{{Key: "disk", Value: "scsi0"}, {Key: "size", Value: size}}}},
		Run: func(ctx context.Context, _ plan.Progress) (string, error) {
			if err := t.pve.ResizeDisk(ctx, t.node, t.vmid, "scsi0", size); err != nil {
				return "", err
			}
			return "scsi0 is " + size, nil
		},
	}
}
