package images

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
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
	p.Steps = append(p.Steps, t.createVM(), t.resizeDisk(), t.convertToTemplate())
	return p, nil
}

// vmPath is a VM's API path.
func (t *talosImport) vmPath() string {
	return fmt.Sprintf("/nodes/%s/qemu/%d", t.inv.Proxmox.Node, t.inv.Talos.TemplateID)
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

// enableImport adds import content to the import storage when it lacks it.
func (t *talosImport) enableImport(storage proxmox.Storage) plan.Step {
	id := storage.Storage
	s := plan.Step{Name: StepEnableImport, Detail: "storage " + id, Run: func(ctx context.Context, _ plan.Progress) (string, error) {
		changed, err := t.pve.EnsureStorageContent(ctx, id, "import")
		if err != nil {
			return "", err
		}
		if changed {
			return "import content enabled on " + id, nil
		}
		return id + " already holds import content", nil
	}}
	if !storage.Holds("import") {
		// EnsureStorageContent writes the sorted list back, import added.
		content := append(storage.ContentTypes(), "import")
		slices.Sort(content)
		s.Calls = []plan.Call{{Method: http.MethodPut, Path: "/storage/" + id, Params: []plan.Param{{Key: "content", Value: strings.Join(content, ",")}}}}
	}
	return s
}

// download has PVE download the image into the import storage. Its calls
// follow proxmox.EnsureDownloaded's rules, from what is on the storage now:
// a file there that no checksum can verify is kept (and deleted first with
// Replace); otherwise PVE is asked to download, and with a checksum it
// checks a file already there instead of downloading it again.
func (t *talosImport) download(ctx context.Context, storage proxmox.Storage) (plan.Step, error) {
	px := t.inv.Proxmox
	// A storage without import content holds no import volume to find:
	// the file is missing, as far as a download is concerned.
	exists := false
	if storage.Holds("import") {
		var err error
		if _, exists, err = t.pve.FindVolume(ctx, px.Node, t.volume, "import"); err != nil {
			return plan.Step{}, fmt.Errorf("look for %s: %w", t.volume, err)
		}
	}
	s := plan.Step{Name: StepDownload, Detail: t.file, Metered: true, Run: t.runDownload}
	fetch := plan.Call{Method: http.MethodPost, Path: "/nodes/" + px.Node + "/storage/" + px.Storage.Import + "/download-url",
		Params: []plan.Param{{Key: "url", Value: t.rep.ImageURL}, {Key: "filename", Value: t.file}}}
	if sum := t.rep.Checksum; sum != "" {
		fetch.Params = append(fetch.Params, plan.Param{Key: "checksum-algorithm", Value: "sha256"}, plan.Param{Key: "checksum", Value: sum})
	}
	verifiable := t.rep.Checksum != "" || t.opts.Verify
	switch {
	case exists && !verifiable && !t.opts.Replace:
		// Kept as it is: there is nothing to verify it against.
	case exists && !verifiable:
		s.Calls = []plan.Call{{Method: http.MethodDelete, Path: "/nodes/" + px.Node + "/storage/" + px.Storage.Import + "/content/" + t.volume.String(),
			Note: "no checksum to verify the file there: -replace downloads it again"}, fetch}
	default:
		if exists {
			fetch.Note = "PVE verifies the file already there and downloads only if it differs"
		}
		s.Calls = []plan.Call{fetch}
	}
	return s, nil
}

func (t *talosImport) runDownload(ctx context.Context, progress plan.Progress) (string, error) {
	px := t.inv.Proxmox
	sum := t.rep.Checksum
	dl, err := t.pve.EnsureDownloaded(ctx, proxmox.DownloadRequest{Node: px.Node, Storage: px.Storage.Import, URL: t.rep.ImageURL,
		Content: "import", Filename: t.file, Checksum: sum, ChecksumAlgorithm: algorithm(sum),
		Replace: t.opts.Replace, ReuseUnverified: true}, func(ev proxmox.TaskEvent) {
		if ev.Percent >= 0 {
			progress(ev.Percent, "PVE downloads "+t.file)
		}
	})
	if err != nil {
		if errors.Is(err, proxmox.ErrChecksumMismatch) {
			return "", fmt.Errorf("%w; the pin is in %s (the factory serves other bytes than when it was pinned: check why before you re-pin)", err, t.lock.Path())
		}
		return "", err
	}
	if !dl.Downloaded {
		return t.file + " is already on " + px.Storage.Import, nil
	}
	return "PVE downloaded " + t.file + verifiedNote(sum), nil
}

func algorithm(sum string) string {
	if sum == "" {
		return ""
	}
	return "sha256"
}

func verifiedNote(sum string) string {
	if sum == "" {
		return " (no checksum pinned yet: run with -verify to pin one)"
	}
	return ", checksum verified by PVE"
}

// removeOld deletes what holds the VM ID (repair and replace).
func (t *talosImport) removeOld(holder string) plan.Step {
	node, vmid := t.inv.Proxmox.Node, t.inv.Talos.TemplateID
	return plan.Step{
		Name:   StepRemoveOld,
		Detail: holder,
		Calls: []plan.Call{{Method: http.MethodDelete, Path: t.vmPath(),
			Params: []plan.Param{{Key: "purge", Value: "1"}, {Key: "destroy-unreferenced-disks", Value: "1"}}, Note: holder}},
		Run: func(ctx context.Context, _ plan.Progress) (string, error) {
			if _, err := t.pve.DeleteVM(ctx, node, vmid, true); err != nil {
				return "", err
			}
			return "removed " + holder, nil
		},
	}
}

// systemDisk is scsi0, imported from the downloaded image.
func (t *talosImport) systemDisk() string {
	return proxmox.Disk{Storage: t.inv.Proxmox.Storage.Disks, ImportFrom: t.volume.String(), Discard: true, SSD: true, IOThread: true}.String()
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

// createVM creates the VM, importing its disk from the image. From here
// on, a failure removes the VM again.
func (t *talosImport) createVM() plan.Step {
	node, vmid := t.inv.Proxmox.Node, t.inv.Talos.TemplateID
	return plan.Step{
		Name:    StepCreateVM,
		Detail:  fmt.Sprintf("VM %d %s, importing %s", vmid, t.rep.Name, t.file),
		Metered: true,
		Calls: []plan.Call{{Method: http.MethodPost, Path: "/nodes/" + node + "/qemu",
			Params: []plan.Param{{Key: "vmid", Value: strconv.Itoa(vmid)}, {Key: "name", Value: t.rep.Name}, {Key: "scsi0", Value: t.systemDisk()}}}},
		Run: func(ctx context.Context, progress plan.Progress) (string, error) {
			_, err := t.pve.CreateVM(ctx, node, vmid, t.params(), func(ev proxmox.TaskEvent) {
				if ev.Percent >= 0 {
					progress(ev.Percent, "importing the disk")
				}
			})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("VM %d created", vmid), nil
		},
		Undo: t.cleanup,
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
	node, vmid, size := t.inv.Proxmox.Node, t.inv.Talos.TemplateID, t.diskSize()
	return plan.Step{
		Name:   StepResize,
		Detail: "scsi0 to " + size,
		Calls: []plan.Call{{Method: http.MethodPut, Path: t.vmPath() + "/resize",
			Params: []plan.Param{{Key: "disk", Value: "scsi0"}, {Key: "size", Value: size}}}},
		Run: func(ctx context.Context, _ plan.Progress) (string, error) {
			if err := t.pve.ResizeDisk(ctx, node, vmid, "scsi0", size); err != nil {
				return "", err
			}
			return "scsi0 is " + size, nil
		},
	}
}

// convertToTemplate makes the VM a template.
func (t *talosImport) convertToTemplate() plan.Step {
	node, vmid := t.inv.Proxmox.Node, t.inv.Talos.TemplateID
	return plan.Step{
		Name:   StepTemplate,
		Detail: fmt.Sprintf("VM %d", vmid),
		Calls:  []plan.Call{{Method: http.MethodPost, Path: t.vmPath() + "/template"}},
		Run: func(ctx context.Context, _ plan.Progress) (string, error) {
			if err := t.pve.ConvertToTemplate(ctx, node, vmid); err != nil {
				return "", err
			}
			return fmt.Sprintf("template %d %s", vmid, t.rep.Name), nil
		},
	}
}
