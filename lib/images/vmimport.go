package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// vmImport is what every import shares: the VM it builds at one VM ID from
// one image file on the import storage, and the steps that inspect, fetch,
// create, convert and clean up. ImportTalos and ImportCloud add their own
// source (factory, publisher) and VM settings around it.
type vmImport struct {
	pve     PVE
	node    string
	vmid    int
	field   string // the inventory field holding vmid: "talos.template_id"
	storage string // the import storage
	file    string // the image's file name on it
	volume  pve.VolumeID
	replace bool
	log     *slog.Logger
	events  func(plan.Event)
}

func newVMImport(inv *inventory.Inventory, pveClient PVE, vmid int, field, file string, replace bool, log *slog.Logger, events func(plan.Event)) vmImport {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	px := inv.Proxmox
	return vmImport{pve: pveClient, node: px.Node, vmid: vmid, field: field, storage: px.Storage.Import, file: file,
		volume: proxmox.VolumeFor(px.Storage.Import, "import", file), replace: replace, log: log, events: events}
}

// vmPath is the VM's API path.
func (v *vmImport) vmPath() string {
	return fmt.Sprintf("/nodes/%s/qemu/%d", v.node, v.vmid)
}

// emit reports a step the plan does not run (a check, the cleanup).
func (v *vmImport) emit(step, msg string, done bool) {
	if v.events != nil {
		v.events(plan.Event{Step: step, Message: msg, Percent: -1, Done: done})
	}
}

// marker is the key: value lines an import writes in the VM's
// description, read back by the next run; "infra-image" names the image
// kind (talos, ubuntu, ...).
type marker map[string]string

// readMarker finds the marker in a description.
func readMarker(desc string) (marker, bool) {
	fields := marker{}
	for _, line := range strings.Split(desc, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if fields[markerImage] == "" {
		return nil, false
	}
	return fields, true
}

// wantImage says which image the VM should hold, for inspect.
type wantImage struct {
	// kind is the image kind ("talos", "ubuntu"), as the marker names it.
	kind string
	// matches says whether a finished VM's marker records that image.
	matches func(m marker) bool
	// holds names what a marker records, for messages: "the Talos v1.12.7
	// template (schematic 53513e54bb39)".
	holds func(m marker) string
	// want names the image wanted: "Talos v1.12.7 (schematic 376567988ad3)".
	want string
	// replaceOwn lets a finished VM of ours that holds another image be
	// replaced without Replace (a cloud import's -update).
	replaceOwn bool
}

// inspect decides what to do about what holds the VM ID, and names the
// holder. It reads the VM's config, which is current (the VM list is
// pvestatd's cache: right after a change it shows the VM as it was, or
// with no statistics at all).
func (v *vmImport) inspect(ctx context.Context, want wantImage) (action plan.Action, holder string, err error) {
	cfg, err := v.pve.VMConfig(ctx, v.node, v.vmid)
	if errors.Is(err, proxmox.ErrVMNotFound) {
		return plan.Create, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read the config of %s %d: %w", v.field, v.vmid, err)
	}
	holder = fmt.Sprintf("VM %d %q", v.vmid, cfg.Get("name"))
	if !cfg.HasTag(inventory.ManagedTag) {
		if !v.replace {
			return 0, holder, fmt.Errorf("%w: %s %d is held by %s (tags %s), which this project did not create: free the ID, choose another %s in homelab.yaml, or run with -replace to delete it",
				ErrVMIDTaken, v.field, v.vmid, holder, strings.Join(cfg.Tags(), ";"), v.field)
		}
		return plan.Replace, holder, nil
	}
	m, ok := readMarker(cfg.Get("description"))
	if why := unfinished(cfg, v.vmid, ok); why != "" {
		// Our VM, but not a finished template: an earlier run stopped
		// half-way. Rebuild it.
		v.log.Warn("found a half-made VM from an earlier run; rebuilding it", "vmid", v.vmid, "name", cfg.Get("name"), "why", why)
		return plan.Repair, fmt.Sprintf("%s (left half-made by an earlier run: %s)", holder, why), nil
	}
	switch {
	case want.matches(m):
		return plan.Unchanged, holder, nil
	case !v.replace && !(want.replaceOwn && m[markerImage] == want.kind):
		return 0, holder, fmt.Errorf("%w: %s %d holds %s; run with -replace to replace it with %s",
			ErrVMIDTaken, v.field, v.vmid, want.holds(m), want.want)
	default:
		return plan.Replace, fmt.Sprintf("%s (%s)", holder, want.holds(m)), nil
	}
}

// unfinished says why a VM of ours is not a finished template, or "": not
// a template yet, no marker, a config lock (an operation that never
// finished), or a half conversion. qemu-server writes template: 1 before it
// renames the disks (API2/Qemu.pm, template), so a conversion that failed
// part-way leaves template: 1 with disks not named base-<id>-disk-<n>.
func unfinished(cfg proxmox.VMConfig, vmid int, marked bool) string {
	switch {
	case !cfg.Template():
		return "not a template"
	case !marked:
		return "no marker in its description"
	case cfg.Lock() != "":
		return "locked (" + cfg.Lock() + ")"
	}
	if pending := cfg.PendingBaseDisks(vmid); len(pending) > 0 {
		return "template conversion unfinished: " + strings.Join(pending, ", ") + " not base volumes"
	}
	return ""
}

// cleanup is the Undo of the VM's creation: it removes the VM this run
// created after a failure, with its own deadline, and returns the failure.
func (v *vmImport) cleanup(ctx context.Context, cause error) error {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	v.emit(StepCleanup, fmt.Sprintf("VM %d", v.vmid), false)
	cfg, err := v.pve.VMConfig(ctx, v.node, v.vmid)
	exists := !errors.Is(err, proxmox.ErrVMNotFound)
	if err != nil && exists {
		return fmt.Errorf("%w; and checking for a half-made VM %d failed too (%v): the next run will find and rebuild it", cause, v.vmid, err)
	}
	if !exists || !cfg.HasTag(inventory.ManagedTag) {
		v.emit(StepCleanup, "nothing was left behind", true)
		return cause
	}
	if _, err := v.pve.DeleteVM(ctx, v.node, v.vmid, true); err != nil {
		return fmt.Errorf("%w; and removing the half-made VM %d failed too (%v): the next run will find and rebuild it", cause, v.vmid, err)
	}
	v.emit(StepCleanup, fmt.Sprintf("removed the half-made VM %d", v.vmid), true)
	return fmt.Errorf("%w (the half-made VM %d was removed; nothing is left behind)", cause, v.vmid)
}

// enableImport adds import content to the import storage when it lacks it.
func (v *vmImport) enableImport(storage proxmox.Storage) plan.Step {
	id := storage.Storage
	s := plan.Step{Name: StepEnableImport, Detail: "storage " + id, Run: func(ctx context.Context, _ plan.Progress) (string, error) {
		changed, err := v.pve.EnsureStorageContent(ctx, id, "import")
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

// imageExists says whether the image file is on the import storage. A
// storage without import content holds no import volume to find: the file
// is missing, as far as a download or upload is concerned.
func (v *vmImport) imageExists(ctx context.Context, storage proxmox.Storage) (bool, error) {
	if !storage.Holds("import") {
		return false, nil
	}
	_, exists, err := v.pve.FindVolume(ctx, v.node, v.volume, "import")
	if err != nil {
		return false, fmt.Errorf("look for %s: %w", v.volume, err)
	}
	return exists, nil
}

// fetch is where PVE downloads an image from, and how it is checked.
type fetch struct {
	url                 string
	checksum, algorithm string // "" when nothing is pinned
	// verifiable: a file already there can be checked (a checksum, or one
	// pinned before the download runs).
	verifiable bool
	// mismatch explains a checksum mismatch: where the sum came from.
	mismatch string
	// unverified is appended to the result when no checksum was passed.
	unverified string
	// checksum returns the sum when the step runs (a step before it may
	// pin it); nil uses the fields above.
	current func() (sum, algorithm string)
}

// download has PVE download the image into the import storage. Its calls
// follow proxmox.EnsureDownloaded's rules, from what is on the storage now:
// a file there that no checksum can verify is kept (and deleted first with
// Replace); otherwise PVE is asked to download, and with a checksum it
// checks a file already there instead of downloading it again.
func (v *vmImport) download(ctx context.Context, storage proxmox.Storage, f fetch) (plan.Step, error) {
	exists, err := v.imageExists(ctx, storage)
	if err != nil {
		return plan.Step{}, err
	}
	s := plan.Step{Name: StepDownload, Detail: v.file, Metered: true, Run: func(ctx context.Context, progress plan.Progress) (string, error) {
		return v.runDownload(ctx, progress, f)
	}}
	call := plan.Call{Method: http.MethodPost, Path: "/nodes/" + v.node + "/storage/" + v.storage + "/download-url",
		Params: []plan.Param{{Key: "url", Value: f.url}, {Key: "filename", Value: v.file}}}
	if f.checksum != "" {
		call.Params = append(call.Params, plan.Param{Key: "checksum-algorithm", Value: f.algorithm}, plan.Param{Key: "checksum", Value: f.checksum})
	}
	verifiable := f.checksum != "" || f.verifiable
	switch {
	case exists && !verifiable && !v.replace:
		// Kept as it is: there is nothing to verify it against.
	case exists && !verifiable:
		s.Calls = []plan.Call{{Method: http.MethodDelete, Path: "/nodes/" + v.node + "/storage/" + v.storage + "/content/" + v.volume.String(),
			Note: "no checksum to verify the file there: -replace downloads it again"}, call}
	default:
		if exists {
			call.Note = "PVE verifies the file already there and downloads only if it differs"
		}
		s.Calls = []plan.Call{call}
	}
	return s, nil
}

func (v *vmImport) runDownload(ctx context.Context, progress plan.Progress, f fetch) (string, error) {
	sum, alg := f.checksum, f.algorithm
	if f.current != nil {
		sum, alg = f.current()
	}
	dl, err := v.pve.EnsureDownloaded(ctx, proxmox.DownloadRequest{Node: v.node, Storage: v.storage, URL: f.url,
		Content: "import", Filename: v.file, Checksum: sum, ChecksumAlgorithm: alg,
		Replace: v.replace, ReuseUnverified: true}, func(ev proxmox.TaskEvent) {
		if ev.Percent >= 0 {
			progress(ev.Percent, "PVE downloads "+v.file)
		}
	})
	if err != nil {
		if errors.Is(err, proxmox.ErrChecksumMismatch) && f.mismatch != "" {
			return "", fmt.Errorf("%w; %s", err, f.mismatch)
		}
		return "", err
	}
	if !dl.Downloaded {
		return v.file + " is already on " + v.storage, nil
	}
	if sum == "" {
		return "PVE downloaded " + v.file + f.unverified, nil
	}
	return "PVE downloaded " + v.file + ", " + alg + " checksum verified by PVE", nil
}

// removeOld deletes what holds the VM ID (repair and replace).
func (v *vmImport) removeOld(holder string) plan.Step {
	return plan.Step{
		Name:   StepRemoveOld,
		Detail: holder,
		Calls: []plan.Call{{Method: http.MethodDelete, Path: v.vmPath(),
			Params: []plan.Param{{Key: "purge", Value: "1"}, {Key: "destroy-unreferenced-disks", Value: "1"}}, Note: holder}},
		Run: func(ctx context.Context, _ plan.Progress) (string, error) {
			if _, err := v.pve.DeleteVM(ctx, v.node, v.vmid, true); err != nil {
				return "", err
			}
			return "removed " + holder, nil
		},
	}
}

// importedDisk is the system disk on storage disks, imported from the
// image file; ssd marks it for a SCSI drive (a virtio block drive has no
// such flag).
func (v *vmImport) importedDisk(disks string, ssd bool) string {
	return proxmox.Disk{Storage: disks, ImportFrom: v.volume.String(), Discard: true, SSD: ssd, IOThread: true}.String()
}

// createVM creates the VM named name with the settings params returns
// (read when the step runs), importing drive (scsi0, virtio0) from the
// image as disk. From here on, a failure removes the VM again.
func (v *vmImport) createVM(name, drive, disk string, params func() proxmox.Params) plan.Step {
	return plan.Step{
		Name:    StepCreateVM,
		Detail:  fmt.Sprintf("VM %d %s, importing %s", v.vmid, name, v.file),
		Metered: true,
		Calls: []plan.Call{{Method: http.MethodPost, Path: "/nodes/" + v.node + "/qemu",
			Params: []plan.Param{{Key: "vmid", Value: strconv.Itoa(v.vmid)}, {Key: "name", Value: name}, {Key: drive, Value: disk}}}},
		Run: func(ctx context.Context, progress plan.Progress) (string, error) {
			_, err := v.pve.CreateVM(ctx, v.node, v.vmid, params(), func(ev proxmox.TaskEvent) {
				if ev.Percent >= 0 {
					progress(ev.Percent, "importing the disk")
				}
			})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("VM %d created", v.vmid), nil
		},
		Undo: v.cleanup,
	}
}

// convertToTemplate makes the VM a template.
func (v *vmImport) convertToTemplate(name string) plan.Step {
	return plan.Step{
		Name:   StepTemplate,
		Detail: fmt.Sprintf("VM %d", v.vmid),
		Calls:  []plan.Call{{Method: http.MethodPost, Path: v.vmPath() + "/template"}},
		Run: func(ctx context.Context, _ plan.Progress) (string, error) {
			if err := v.pve.ConvertToTemplate(ctx, v.node, v.vmid); err != nil {
				return "", err
			}
			return fmt.Sprintf("template %d %s", v.vmid, name), nil
		},
	}
}
