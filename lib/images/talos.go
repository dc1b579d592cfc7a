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
	vmImport
	inv       *inventory.Inventory
	factory   Factory
	lock      *LockFile
	opts      TalosImportOptions
	schematic talosfactory.Schematic
	rep       *TalosImportReport
}

func newTalosImport(inv *inventory.Inventory, pveClient PVE, factory Factory, lock *LockFile, opts TalosImportOptions) (*talosImport, error) {
	tc := inv.Talos
	schematic := talosfactory.SchematicFor(inv)
	id, err := schematic.ID()
	if err != nil {
		return nil, err
	}
	file := fmt.Sprintf("talos-%s-%s.qcow2", tc.Version, id[:schematicPrefixLen])
	t := &talosImport{vmImport: newVMImport(inv, pveClient, tc.TemplateID, "talos.template_id", file, opts.Replace, opts.Logger, opts.Events),
		inv: inv, factory: factory, lock: lock, opts: opts, schematic: schematic}
	t.rep = &TalosImportReport{TemplateID: tc.TemplateID, Name: "talos-" + strings.ReplaceAll(tc.Version, ".", "-"), Version: tc.Version,
		SchematicID: id, Extensions: schematic.Customization.SystemExtensions.OfficialExtensions,
		InstallerRef: factory.InstallerRef(id, tc.Version), ImageURL: factory.ImageURL(id, tc.Version, talosImageFile),
		Volume: t.volume.String()}
	if sum, ok := lock.Lookup("talos", tc.Version, id, talosImageFile); ok {
		t.rep.Checksum = sum
	}
	return t, nil
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

// inspect decides what to do about what holds talos.template_id.
func (t *talosImport) inspect(ctx context.Context) (plan.Action, string, error) {
	tc, schematic := t.inv.Talos, t.rep.SchematicID
	return t.vmImport.inspect(ctx, wantImage{
		kind: "talos",
		matches: func(m marker) bool {
			return m[markerImage] == "talos" && m["version"] == tc.Version && m["schematic"] == schematic
		},
		holds: func(m marker) string {
			if m[markerImage] != "talos" {
				return "the " + m[markerImage] + " image, build " + m["build"]
			}
			return fmt.Sprintf("the Talos %s template (schematic %s)", m["version"], short(m["schematic"]))
		},
		want: fmt.Sprintf("Talos %s (schematic %s)", tc.Version, short(schematic)),
	})
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
