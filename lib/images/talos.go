package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/talosfactory"
)

// PVE is what an import needs from Proxmox (lib/proxmox's Client).
type PVE interface {
	FindVM(ctx context.Context, vmid int) (proxmox.VMInfo, bool, error)
	VMConfig(ctx context.Context, node string, vmid int) (proxmox.VMConfig, error)
	EnsureStorageContent(ctx context.Context, id string, content ...string) (bool, error)
	EnsureDownloaded(ctx context.Context, req proxmox.DownloadRequest, progress proxmox.Progress) (proxmox.DownloadResult, error)
	CreateVM(ctx context.Context, node string, vmid int, params proxmox.Params, progress proxmox.Progress) (*proxmox.TaskResult, error)
	ResizeDisk(ctx context.Context, node string, vmid int, disk, size string) error
	ConvertToTemplate(ctx context.Context, node string, vmid int) error
	DeleteVM(ctx context.Context, node string, vmid int, purge bool) (bool, error)
}

// Factory is what an import needs from the Image Factory.
type Factory interface {
	Check(ctx context.Context, version string, s talosfactory.Schematic) error
	CreateSchematic(ctx context.Context, s talosfactory.Schematic) (string, error)
	URL(path string) string
	ImageURL(schematicID, version, file string) string
	InstallerRef(schematicID, version string) string
	Digest(ctx context.Context, imageURL string, progress func(done, total int64)) (int64, string, error)
}

// Steps of a Talos import, as reported in events and to AfterStep.
const (
	StepCheckFactory   = "check the image factory"
	StepPinChecksum    = "pin the image checksum"
	StepEnableImport   = "enable import content"
	StepSchematic      = "register the schematic"
	StepDownload       = "download the image"
	StepRemoveOld      = "remove the old VM"
	StepCreateVM       = "create the VM"
	StepResize         = "resize the disk"
	StepTemplate       = "convert to a template"
	StepCleanup        = "remove the half-made VM"
	markerImage        = "infra-image"
	talosImageFile     = talosfactory.NoCloudImage
	cleanupTimeout     = 2 * time.Minute
	schematicPrefixLen = 12
)

// Event reports an import's progress.
type Event struct {
	// Step is one of the Step* names.
	Step string
	// Message says what happens, or happened when Done.
	Message string
	// Percent is the step's progress, or -1.
	Percent float64
	// Done marks the end of the step.
	Done bool
}

// TalosOptions are the optional settings of a Talos import.
type TalosOptions struct {
	// Verify streams the image once through this machine to compute its
	// SHA-256 and pins it in the lock file (or checks it against the pin).
	Verify bool
	// Replace lets the import remove what holds the template's VM ID (a VM
	// this project did not create, or the template of another version).
	Replace bool
	// DryRun prints the planned API calls and changes nothing.
	DryRun bool
	// FactoryURL overrides talos.factory_url (the demo points it at its stand-in).
	FactoryURL string
	// Events receives progress; nil drops it.
	Events func(Event)
	// AfterStep is called after each step that changed something. An error
	// stops the import at once, without cleaning up, as if the process had
	// been killed there; tests use it to prove the next run repairs.
	AfterStep func(step string) error
	// Logger receives the import's log (default: discard).
	Logger *slog.Logger
	// FactoryTimeouts are the Image Factory client's time limits (zero
	// fields take netx's defaults).
	FactoryTimeouts netx.Timeouts
}

// TalosResult says what an import did.
type TalosResult struct {
	// Outcome is "created", "unchanged", "repaired" (a half-made VM of an
	// earlier run was rebuilt), "replaced" or "planned" (dry run).
	Outcome string
	// TemplateID and Name are the template's VM ID and name.
	TemplateID int
	Name       string
	// Version and SchematicID say what the template holds.
	Version     string
	SchematicID string
	// Extensions are the schematic's system extensions.
	Extensions []string
	// InstallerRef is the installer image for the Talos machine config.
	InstallerRef string
	// ImageURL is where PVE downloads the image from.
	ImageURL string
	// Volume is the image file on the import storage.
	Volume string
	// Checksum is the pinned SHA-256, or "" when none is pinned yet.
	Checksum string
	// Calls are the mutating API calls made (or, for a dry run, planned).
	Calls []string
}

// TalosImport builds the inventory's Talos template from the Image Factory.
type TalosImport struct {
	inv     *inventory.Inventory
	pve     PVE
	factory Factory
	lock    *LockFile
	opts    TalosOptions
	log     *slog.Logger
	res     *TalosResult
}

// NewTalosImport prepares an import of the inventory's Talos version and
// extensions into its Talos template VM ID.
func NewTalosImport(inv *inventory.Inventory, pveClient PVE, factory Factory, lock *LockFile, opts TalosOptions) *TalosImport {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &TalosImport{inv: inv, pve: pveClient, factory: factory, lock: lock, opts: opts, log: log}
}

// marker is what a template's description records about its image.
type marker struct {
	version, schematic string
}

// description writes the template's description: for people, and the
// marker lines the next run reads.
func description(version, schematic string, exts []string, source, sum string) string {
	if sum == "" {
		sum = "not pinned"
	}
	return fmt.Sprintf("Talos Linux %s template, built by infra (go run mage.go talos:import). The lines below are read back: do not edit them.\n"+
		"%s: talos\nversion: %s\nschematic: %s\nextensions: %s\nsource: %s\nsha256: %s\n",
		version, markerImage, version, schematic, strings.Join(exts, ", "), source, sum)
}

// readMarker finds the marker in a description.
func readMarker(desc string) (marker, bool) {
	fields := map[string]string{}
	for _, line := range strings.Split(desc, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if fields[markerImage] != "talos" {
		return marker{}, false
	}
	return marker{version: fields["version"], schematic: fields["schematic"]}, true
}

func (t *TalosImport) event(step, msg string, pct float64, done bool) {
	if t.opts.Events != nil {
		t.opts.Events(Event{Step: step, Message: msg, Percent: pct, Done: done})
	}
}

// did records a mutating call and lets AfterStep stop the run there.
func (t *TalosImport) did(step, call string) error {
	t.res.Calls = append(t.res.Calls, call)
	if t.opts.AfterStep != nil {
		if err := t.opts.AfterStep(step); err != nil {
			return fmt.Errorf("stopped after %q: %w", step, err)
		}
	}
	return nil
}

// ErrVMIDTaken is returned (wrapped) when the template's VM ID holds
// something the import may not remove without Replace.
var ErrVMIDTaken = errors.New("VM ID taken")

// Run imports the template, or does nothing when the same version and
// schematic are already there. Any failure after the VM was created removes
// it again (purged).
func (t *TalosImport) Run(ctx context.Context) (*TalosResult, error) {
	inv := t.inv
	px, tc := inv.Proxmox, inv.Talos
	schematic := talosfactory.SchematicFor(inv)
	id, err := schematic.ID()
	if err != nil {
		return nil, err
	}
	t.res = &TalosResult{TemplateID: tc.TemplateID, Name: "talos-" + strings.ReplaceAll(tc.Version, ".", "-"), Version: tc.Version,
		SchematicID: id, Extensions: schematic.Customization.SystemExtensions.OfficialExtensions,
		InstallerRef: t.factory.InstallerRef(id, tc.Version), ImageURL: t.factory.ImageURL(id, tc.Version, talosImageFile)}
	file := fmt.Sprintf("talos-%s-%s.qcow2", tc.Version, id[:schematicPrefixLen])
	t.res.Volume = proxmox.VolumeFor(px.Storage.Import, "import", file).String()
	if sum, ok := t.lock.Lookup("talos", tc.Version, id, talosImageFile); ok {
		t.res.Checksum = sum
	}

	// What holds the VM ID decides what to do; a finished template of the
	// same image means there is nothing to do, not even asking the factory.
	action, old, err := t.inspect(ctx, id)
	if err != nil {
		return nil, err
	}
	if action == "unchanged" {
		t.res.Outcome = "unchanged"
		if t.opts.Verify && t.res.Checksum == "" {
			if err := t.registerSchematic(ctx, schematic); err != nil {
				return nil, err
			}
			if err := t.pin(ctx); err != nil {
				return nil, err
			}
		}
		return t.res, nil
	}

	t.event(StepCheckFactory, "Talos "+tc.Version+" with "+strings.Join(t.res.Extensions, ", "), -1, false)
	if err := t.factory.Check(ctx, tc.Version, schematic); err != nil {
		return nil, err
	}
	t.event(StepCheckFactory, "the factory offers Talos "+tc.Version+" and every extension", -1, true)

	if t.opts.DryRun {
		return t.plan(action, old, file), nil
	}
	// The factory serves images only of schematics it knows: register first.
	if err := t.registerSchematic(ctx, schematic); err != nil {
		return nil, err
	}
	if t.opts.Verify {
		if err := t.pin(ctx); err != nil {
			return nil, err
		}
	}

	t.event(StepEnableImport, "storage "+px.Storage.Import, -1, false)
	changed, err := t.pve.EnsureStorageContent(ctx, px.Storage.Import, "import")
	if err != nil {
		return nil, err
	}
	if changed {
		if err := t.did(StepEnableImport, "PUT /storage/"+px.Storage.Import+" content+=import"); err != nil {
			return nil, err
		}
		t.event(StepEnableImport, "import content enabled on "+px.Storage.Import, -1, true)
	} else {
		t.event(StepEnableImport, px.Storage.Import+" already holds import content", -1, true)
	}

	t.event(StepDownload, file, 0, false)
	dl, err := t.pve.EnsureDownloaded(ctx, proxmox.DownloadRequest{Node: px.Node, Storage: px.Storage.Import, URL: t.res.ImageURL,
		Content: "import", Filename: file, Checksum: t.res.Checksum, ChecksumAlgorithm: algorithm(t.res.Checksum),
		Replace: t.opts.Replace, ReuseUnverified: true}, func(ev proxmox.TaskEvent) {
		if ev.Percent >= 0 {
			t.event(StepDownload, "PVE downloads "+file, ev.Percent, false)
		}
	})
	if err != nil {
		if errors.Is(err, proxmox.ErrChecksumMismatch) {
			return nil, fmt.Errorf("%w; the pin is in %s (the factory serves other bytes than when it was pinned: check why before you re-pin)", err, t.lock.Path())
		}
		return nil, err
	}
	if dl.Downloaded {
		if err := t.did(StepDownload, "POST /nodes/"+px.Node+"/storage/"+px.Storage.Import+"/download-url "+file); err != nil {
			return nil, err
		}
		t.event(StepDownload, "PVE downloaded "+file+verifiedNote(t.res.Checksum), 100, true)
	} else {
		t.event(StepDownload, file+" is already on "+px.Storage.Import, -1, true)
	}

	if action == "repair" || action == "replace" {
		t.event(StepRemoveOld, old, -1, false)
		if _, err := t.pve.DeleteVM(ctx, px.Node, tc.TemplateID, true); err != nil {
			return nil, err
		}
		if err := t.did(StepRemoveOld, fmt.Sprintf("DELETE /nodes/%s/qemu/%d purge=1", px.Node, tc.TemplateID)); err != nil {
			return nil, err
		}
		t.event(StepRemoveOld, "removed "+old, -1, true)
	}

	if err := t.build(ctx, dl.Volume, file); err != nil {
		return nil, t.cleanup(ctx, err)
	}
	t.res.Outcome = map[string]string{"create": "created", "repair": "repaired", "replace": "replaced"}[action]
	return t.res, nil
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

// inspect decides what to do about what holds the template's VM ID:
// "create", "unchanged", "repair" (a half-made VM of ours) or "replace".
func (t *TalosImport) inspect(ctx context.Context, schematic string) (action, holder string, err error) {
	tc, node := t.inv.Talos, t.inv.Proxmox.Node
	vm, exists, err := t.pve.FindVM(ctx, tc.TemplateID)
	if err != nil || !exists {
		return "create", "", err
	}
	holder = fmt.Sprintf("VM %d %q", vm.VMID, vm.Name)
	if !vm.HasTag(proxmox.ManagedTag) {
		if !t.opts.Replace {
			return "", holder, fmt.Errorf("%w: talos.template_id %d is held by %s (tags %s), which this project did not create: free the ID, choose another talos.template_id in homelab.yaml, or run with -replace to delete it",
				ErrVMIDTaken, tc.TemplateID, holder, strings.Join(vm.Tags, ";"))
		}
		return "replace", holder, nil
	}
	cfg, err := t.pve.VMConfig(ctx, node, tc.TemplateID)
	if err != nil {
		return "", holder, err
	}
	m, ok := readMarker(cfg.Get("description"))
	switch {
	case !vm.Template || !ok || vm.Lock != "":
		// Our VM, but not a finished template: an earlier run stopped
		// half-way. Rebuild it.
		t.log.Warn("found a half-made VM from an earlier run; rebuilding it", "vmid", tc.TemplateID, "name", vm.Name)
		return "repair", holder + " (left half-made by an earlier run)", nil
	case m.version == tc.Version && m.schematic == schematic:
		return "unchanged", holder, nil
	case !t.opts.Replace:
		return "", holder, fmt.Errorf("%w: talos.template_id %d holds the Talos %s template (schematic %s); run with -replace to replace it with %s (schematic %s)",
			ErrVMIDTaken, tc.TemplateID, m.version, short(m.schematic), tc.Version, short(schematic))
	default:
		return "replace", fmt.Sprintf("%s (Talos %s, schematic %s)", holder, m.version, short(m.schematic)), nil
	}
}

func short(id string) string {
	if len(id) > schematicPrefixLen {
		return id[:schematicPrefixLen]
	}
	return id
}

// registerSchematic registers the schematic and checks the factory's ID.
func (t *TalosImport) registerSchematic(ctx context.Context, s talosfactory.Schematic) error {
	t.event(StepSchematic, t.res.SchematicID, -1, false)
	if _, err := t.factory.CreateSchematic(ctx, s); err != nil {
		return err
	}
	t.event(StepSchematic, "schematic "+short(t.res.SchematicID)+" registered, ID checked", -1, true)
	return nil
}

// pin streams the image through this machine and pins its checksum, or
// checks it against the pin.
func (t *TalosImport) pin(ctx context.Context) error {
	tc := t.inv.Talos
	t.event(StepPinChecksum, "streaming "+t.res.ImageURL, 0, false)
	_, sum, err := t.factory.Digest(ctx, t.res.ImageURL, func(done, total int64) {
		if total > 0 {
			t.event(StepPinChecksum, "sha256 of the factory image", float64(done)*100/float64(total), false)
		}
	})
	if err != nil {
		return err
	}
	if t.res.Checksum != "" {
		if sum != t.res.Checksum {
			return fmt.Errorf("%w: the factory now serves %s for Talos %s (schematic %s), but %s pins %s; check why before you change the pin",
				proxmox.ErrChecksumMismatch, sum, tc.Version, short(t.res.SchematicID), t.lock.Path(), t.res.Checksum)
		}
		t.event(StepPinChecksum, "sha256 "+sum+" matches the pin", 100, true)
		return nil
	}
	if err := t.lock.Pin("talos", tc.Version, t.res.SchematicID, talosImageFile, sum); err != nil {
		return err
	}
	t.res.Checksum = sum
	t.event(StepPinChecksum, "pinned sha256 "+sum+" in "+t.lock.Path(), 100, true)
	return nil
}

// params are the template VM's settings: what a Talos node needs.
func (t *TalosImport) params(volume pve.VolumeID) proxmox.Params {
	inv, tc := t.inv, t.inv.Talos
	cp := tc.ControlPlanes()[0]
	return proxmox.Params{
		"name":        t.res.Name,
		"machine":     "q35",
		"bios":        "ovmf",
		"efidisk0":    proxmox.EFIDisk{Storage: inv.Proxmox.Storage.Disks}.String(),
		"cpu":         "host",
		"cores":       cp.Cores,
		"memory":      fmt.Sprint(cp.MemoryMiB),
		"ostype":      "l26",
		"scsihw":      "virtio-scsi-single",
		"scsi0":       proxmox.Disk{Storage: inv.Proxmox.Storage.Disks, ImportFrom: volume.String(), Discard: true, SSD: true, IOThread: true}.String(),
		"boot":        "order=scsi0",
		"net0":        proxmox.NIC{Bridge: inv.Proxmox.Bridge}.String(),
		"agent":       "enabled=1",
		"tags":        strings.Join([]string{"talos", "kubernetes", tc.Version, proxmox.ManagedTag}, ";"),
		"description": description(tc.Version, t.res.SchematicID, t.res.Extensions, t.res.ImageURL, t.res.Checksum),
	}
}

// diskSize is the template's disk: the smallest system disk of the nodes,
// since a clone can grow a disk but never shrink it.
func (t *TalosImport) diskSize() string {
	size := t.inv.Talos.Nodes[0].OSDiskGiB
	for _, n := range t.inv.Talos.Nodes {
		size = min(size, n.OSDiskGiB)
	}
	return fmt.Sprintf("%dG", size)
}

// build creates the VM, grows its disk and makes it a template.
func (t *TalosImport) build(ctx context.Context, volume pve.VolumeID, file string) error {
	node, vmid := t.inv.Proxmox.Node, t.inv.Talos.TemplateID
	t.event(StepCreateVM, fmt.Sprintf("VM %d %s, importing %s", vmid, t.res.Name, file), 0, false)
	_, err := t.pve.CreateVM(ctx, node, vmid, t.params(volume), func(ev proxmox.TaskEvent) {
		if ev.Percent >= 0 {
			t.event(StepCreateVM, "importing the disk", ev.Percent, false)
		}
	})
	if err != nil {
		return err
	}
	if err := t.did(StepCreateVM, fmt.Sprintf("POST /nodes/%s/qemu vmid=%d", node, vmid)); err != nil {
		return errKilled{err}
	}
	t.event(StepCreateVM, fmt.Sprintf("VM %d created", vmid), 100, true)

	size := t.diskSize()
	t.event(StepResize, "scsi0 to "+size, -1, false)
	if err := t.pve.ResizeDisk(ctx, node, vmid, "scsi0", size); err != nil {
		return err
	}
	if err := t.did(StepResize, fmt.Sprintf("PUT /nodes/%s/qemu/%d/resize scsi0 %s", node, vmid, size)); err != nil {
		return errKilled{err}
	}
	t.event(StepResize, "scsi0 is "+size, -1, true)

	t.event(StepTemplate, fmt.Sprintf("VM %d", vmid), -1, false)
	if err := t.pve.ConvertToTemplate(ctx, node, vmid); err != nil {
		return err
	}
	if err := t.did(StepTemplate, fmt.Sprintf("POST /nodes/%s/qemu/%d/template", node, vmid)); err != nil {
		return errKilled{err}
	}
	t.event(StepTemplate, fmt.Sprintf("template %d %s", vmid, t.res.Name), -1, true)
	return nil
}

// errKilled marks a run stopped by AfterStep: no cleanup, like a crash.
type errKilled struct{ err error }

func (e errKilled) Error() string { return e.err.Error() }
func (e errKilled) Unwrap() error { return e.err }

// cleanup removes the VM this run created after a failure, with its own
// deadline so a cancelled run still cleans up, and returns the failure.
func (t *TalosImport) cleanup(ctx context.Context, cause error) error {
	var killed errKilled
	if errors.As(cause, &killed) {
		return killed.err
	}
	node, vmid := t.inv.Proxmox.Node, t.inv.Talos.TemplateID
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	t.event(StepCleanup, fmt.Sprintf("VM %d", vmid), -1, false)
	vm, exists, err := t.pve.FindVM(ctx, vmid)
	if err != nil {
		return fmt.Errorf("%w; and checking for a half-made VM %d failed too (%v): the next run will find and rebuild it", cause, vmid, err)
	}
	if !exists || !vm.HasTag(proxmox.ManagedTag) {
		t.event(StepCleanup, "nothing was left behind", -1, true)
		return cause
	}
	if _, err := t.pve.DeleteVM(ctx, node, vmid, true); err != nil {
		return fmt.Errorf("%w; and removing the half-made VM %d failed too (%v): the next run will find and rebuild it", cause, vmid, err)
	}
	t.res.Calls = append(t.res.Calls, fmt.Sprintf("DELETE /nodes/%s/qemu/%d purge=1", node, vmid))
	t.event(StepCleanup, fmt.Sprintf("removed the half-made VM %d", vmid), -1, true)
	return fmt.Errorf("%w (the half-made VM %d was removed; nothing is left behind)", cause, vmid)
}

// plan is the dry run's answer: the mutating calls a real run would make.
func (t *TalosImport) plan(action, old, file string) *TalosResult {
	px, tc := t.inv.Proxmox, t.inv.Talos
	r := t.res
	r.Outcome = "planned"
	r.Calls = append(r.Calls,
		"PUT /storage/"+px.Storage.Import+" content+=import (only if missing)",
		"POST "+t.factory.URL("/schematics")+" (schematic "+short(r.SchematicID)+")",
		fmt.Sprintf("POST /nodes/%s/storage/%s/download-url url=%s filename=%s%s (only if missing)", px.Node, px.Storage.Import, r.ImageURL, file, checksumArg(r.Checksum)))
	if action == "repair" || action == "replace" {
		r.Calls = append(r.Calls, fmt.Sprintf("DELETE /nodes/%s/qemu/%d purge=1 (%s)", px.Node, tc.TemplateID, old))
	}
	r.Calls = append(r.Calls,
		fmt.Sprintf("POST /nodes/%s/qemu vmid=%d name=%s scsi0=%s", px.Node, tc.TemplateID, r.Name, proxmox.Disk{Storage: px.Storage.Disks, ImportFrom: r.Volume, Discard: true, SSD: true, IOThread: true}),
		fmt.Sprintf("PUT /nodes/%s/qemu/%d/resize disk=scsi0 size=%s", px.Node, tc.TemplateID, t.diskSize()),
		fmt.Sprintf("POST /nodes/%s/qemu/%d/template", px.Node, tc.TemplateID))
	return r
}

func checksumArg(sum string) string {
	if sum == "" {
		return ""
	}
	return " checksum-algorithm=sha256 checksum=" + sum
}
