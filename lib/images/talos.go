package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/talosfactory"
)

// PVE is what an import needs from Proxmox (lib/proxmox's Client). It
// decides from the VM's config, which is current; it never reads the VM
// list (/cluster/resources), whose fields lag by pvestatd's interval.
type PVE interface {
	VMConfig(ctx context.Context, node string, vmid int) (proxmox.VMConfig, error)
	FindStorage(ctx context.Context, node, id string) (proxmox.Storage, error)
	FindVolume(ctx context.Context, node string, volid pve.VolumeID, content string) (proxmox.Volume, bool, error)
	EnsureStorageContent(ctx context.Context, id string, content ...string) (bool, error)
	EnsureDownloaded(ctx context.Context, req proxmox.DownloadRequest, progress proxmox.Progress) (proxmox.DownloadResult, error)
	CreateVM(ctx context.Context, node string, vmid int, params proxmox.Params, progress proxmox.Progress) (*proxmox.TaskResult, error)
	ResizeDisk(ctx context.Context, node string, vmid int, disk, size string) error
	ConvertToTemplate(ctx context.Context, node string, vmid int) error
	DeleteVM(ctx context.Context, node string, vmid int, purge bool) (bool, error)
}

// Factory is what an import needs from the Image Factory (lib/talosfactory's
// Client).
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

// TalosImportOptions are the optional settings of ImportTalos.
type TalosImportOptions struct {
	// Verify streams the image once through this machine to compute its
	// SHA-256 and pins it in the lock file (or checks it against the pin).
	Verify bool
	// Replace lets the import remove what holds the template's VM ID (a VM
	// this project did not create, or the template of another version).
	Replace bool
	// DryRun inspects the host and the factory, plans, and changes
	// nothing: the report lists the calls a real run would send.
	DryRun bool
	// Events receives progress; nil drops it.
	Events func(plan.Event)
	// AfterStep is called after each step that sent calls. An error stops
	// the import at once, without cleaning up, as if the process had been
	// killed there; tests use it to prove the next run repairs.
	AfterStep func(step string) error
	// Logger receives the import's log (default: discard).
	Logger *slog.Logger
}

// TalosImportReport says what an import did or, for a dry run, would do.
type TalosImportReport struct {
	// Action is what the import decided: create the template, repair one an
	// earlier run left half-made, replace what held its VM ID, or nothing.
	Action plan.Action
	// DryRun says nothing was changed: Calls are the planned calls.
	DryRun bool
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
	// Calls are the calls that can change something, in order: sent, or
	// for a dry run, planned.
	Calls []plan.Call
}

// ErrVMIDTaken is returned (wrapped) when the template's VM ID holds
// something the import may not remove without Replace.
var ErrVMIDTaken = errors.New("VM ID taken")

// ImportTalos builds the inventory's Talos template (its Talos version and
// schematic, at talos.template_id) from the Image Factory through the
// Proxmox API, with checksums pinned in lock (which must not be nil). It
// inspects first, reading only, and does nothing when the template already
// holds the same image, not even asking the factory. Otherwise it checks
// the factory offers the version and every extension, and plans: register
// the schematic, pin the checksum (Verify), enable import content on the
// import storage, have PVE download the image, remove the old VM (repair,
// replace), create the VM, grow its disk, make it a template. A dry run
// reports the plan's calls; a real run executes the same plan and reports
// the calls it sent. Any failure after the VM was created removes it again
// (purged).
func ImportTalos(ctx context.Context, inv *inventory.Inventory, pveClient PVE, factory Factory, lock *LockFile, opts TalosImportOptions) (*TalosImportReport, error) {
	t, err := newTalosImport(inv, pveClient, factory, lock, opts)
	if err != nil {
		return nil, err
	}
	p, err := t.plan(ctx)
	if err != nil {
		return nil, err
	}
	t.rep.Action = p.Action
	if opts.DryRun {
		t.rep.DryRun, t.rep.Calls = true, p.Calls()
		return t.rep, nil
	}
	if t.rep.Calls, err = p.Execute(ctx, plan.Options{Events: opts.Events, AfterStep: opts.AfterStep}); err != nil {
		return nil, err
	}
	return t.rep, nil
}

// talosImport is one run of ImportTalos.
type talosImport struct {
	inv       *inventory.Inventory
	pve       PVE
	factory   Factory
	lock      *LockFile
	opts      TalosImportOptions
	log       *slog.Logger
	schematic talosfactory.Schematic
	file      string       // the image's file name on the import storage
	volume    pve.VolumeID // and its volume
	rep       *TalosImportReport
}

func newTalosImport(inv *inventory.Inventory, pveClient PVE, factory Factory, lock *LockFile, opts TalosImportOptions) (*talosImport, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tc, px := inv.Talos, inv.Proxmox
	schematic := talosfactory.SchematicFor(inv)
	id, err := schematic.ID()
	if err != nil {
		return nil, err
	}
	t := &talosImport{inv: inv, pve: pveClient, factory: factory, lock: lock, opts: opts, log: log, schematic: schematic,
		file: fmt.Sprintf("talos-%s-%s.qcow2", tc.Version, id[:schematicPrefixLen])}
	t.volume = proxmox.VolumeFor(px.Storage.Import, "import", t.file)
	t.rep = &TalosImportReport{TemplateID: tc.TemplateID, Name: "talos-" + strings.ReplaceAll(tc.Version, ".", "-"), Version: tc.Version,
		SchematicID: id, Extensions: schematic.Customization.SystemExtensions.OfficialExtensions,
		InstallerRef: factory.InstallerRef(id, tc.Version), ImageURL: factory.ImageURL(id, tc.Version, talosImageFile),
		Volume: t.volume.String()}
	if sum, ok := lock.Lookup("talos", tc.Version, id, talosImageFile); ok {
		t.rep.Checksum = sum
	}
	return t, nil
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
	return fmt.Sprintf("Talos Linux %s template, built by infra (github.com/wdiazux/infra/lib/images). The lines below are read back: do not edit them.\n"+
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

// emit reports a step the plan does not run: the factory check and the
// cleanup.
func (t *talosImport) emit(step, msg string, done bool) {
	if t.opts.Events != nil {
		t.opts.Events(plan.Event{Step: step, Message: msg, Percent: -1, Done: done})
	}
}

// inspect decides what to do about what holds the template's VM ID, and
// names the holder. It reads the VM's config, which is current (the VM
// list is pvestatd's cache: right after a change it shows the VM as it
// was, or with no statistics at all).
func (t *talosImport) inspect(ctx context.Context) (action plan.Action, holder string, err error) {
	tc, node, schematic := t.inv.Talos, t.inv.Proxmox.Node, t.rep.SchematicID
	cfg, err := t.pve.VMConfig(ctx, node, tc.TemplateID)
	if errors.Is(err, proxmox.ErrVMNotFound) {
		return plan.Create, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read the config of talos.template_id %d: %w", tc.TemplateID, err)
	}
	holder = fmt.Sprintf("VM %d %q", tc.TemplateID, cfg.Get("name"))
	if !cfg.HasTag(inventory.ManagedTag) {
		if !t.opts.Replace {
			return 0, holder, fmt.Errorf("%w: talos.template_id %d is held by %s (tags %s), which this project did not create: free the ID, choose another talos.template_id in homelab.yaml, or run with -replace to delete it",
				ErrVMIDTaken, tc.TemplateID, holder, strings.Join(cfg.Tags(), ";"))
		}
		return plan.Replace, holder, nil
	}
	m, ok := readMarker(cfg.Get("description"))
	if why := unfinished(cfg, tc.TemplateID, ok); why != "" {
		// Our VM, but not a finished template: an earlier run stopped
		// half-way. Rebuild it.
		t.log.Warn("found a half-made VM from an earlier run; rebuilding it", "vmid", tc.TemplateID, "name", cfg.Get("name"), "why", why)
		return plan.Repair, fmt.Sprintf("%s (left half-made by an earlier run: %s)", holder, why), nil
	}
	switch {
	case m.version == tc.Version && m.schematic == schematic:
		return plan.Unchanged, holder, nil
	case !t.opts.Replace:
		return 0, holder, fmt.Errorf("%w: talos.template_id %d holds the Talos %s template (schematic %s); run with -replace to replace it with %s (schematic %s)",
			ErrVMIDTaken, tc.TemplateID, m.version, short(m.schematic), tc.Version, short(schematic))
	default:
		return plan.Replace, fmt.Sprintf("%s (Talos %s, schematic %s)", holder, m.version, short(m.schematic)), nil
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

func short(id string) string {
	if len(id) > schematicPrefixLen {
		return id[:schematicPrefixLen]
	}
	return id
}

// checkFactory makes sure the factory offers the version and every
// extension before anything is built.
func (t *talosImport) checkFactory(ctx context.Context) error {
	version := t.inv.Talos.Version
	t.emit(StepCheckFactory, "Talos "+version+" with "+strings.Join(t.rep.Extensions, ", "), false)
	if err := t.factory.Check(ctx, version, t.schematic); err != nil {
		return err
	}
	t.emit(StepCheckFactory, "the factory offers Talos "+version+" and every extension", true)
	return nil
}

// cleanup is the Undo of the VM's creation: it removes the VM this run
// created after a failure, with its own deadline, and returns the failure.
func (t *talosImport) cleanup(ctx context.Context, cause error) error {
	node, vmid := t.inv.Proxmox.Node, t.inv.Talos.TemplateID
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	t.emit(StepCleanup, fmt.Sprintf("VM %d", vmid), false)
	cfg, err := t.pve.VMConfig(ctx, node, vmid)
	exists := !errors.Is(err, proxmox.ErrVMNotFound)
	if err != nil && exists {
		return fmt.Errorf("%w; and checking for a half-made VM %d failed too (%v): the next run will find and rebuild it", cause, vmid, err)
	}
	if !exists || !cfg.HasTag(inventory.ManagedTag) {
		t.emit(StepCleanup, "nothing was left behind", true)
		return cause
	}
	if _, err := t.pve.DeleteVM(ctx, node, vmid, true); err != nil {
		return fmt.Errorf("%w; and removing the half-made VM %d failed too (%v): the next run will find and rebuild it", cause, vmid, err)
	}
	t.emit(StepCleanup, fmt.Sprintf("removed the half-made VM %d", vmid), true)
	return fmt.Errorf("%w (the half-made VM %d was removed; nothing is left behind)", cause, vmid)
}
