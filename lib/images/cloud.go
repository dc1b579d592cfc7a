package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
)

// CloudPVE is what a cloud import needs from Proxmox (lib/proxmox's
// Client): what a Talos import needs, and Upload for NixOS, whose image is
// converted on this machine.
type CloudPVE interface {
	PVE
	Uploader
}

// Steps of a cloud import that a Talos import does not have.
const (
	StepResolve     = "resolve the build"
	StepUpload      = "convert and upload the image"
	StepRecordBuild = "record the build in images.lock"
)

// CloudOSes are the operating systems ImportCloud imports, sorted.
func CloudOSes() []string { return []string{"arch", "debian", "nixos", "ubuntu"} }

// CloudImportOptions are the optional settings of ImportCloud and
// ImportClouds.
type CloudImportOptions struct {
	// Update resolves the newest build even when images.lock records one,
	// and moves the base VM to it (replacing the base VM this project made).
	Update bool
	// Replace lets the import remove what holds the base VM's ID that it
	// may not otherwise (a VM this project did not create, or another
	// build than the lock's).
	Replace bool
	// DryRun inspects the host and the publisher, plans, and changes
	// nothing: the report lists the calls a real run would send.
	DryRun bool
	// Events receives progress, with the OS it is about; nil drops it.
	Events func(os string, ev plan.Event)
	// AfterStep is called after each step that sent calls. An error stops
	// that OS's import at once, without cleaning up, as if the process had
	// been killed there; tests use it to prove the next run repairs.
	AfterStep func(os, step string) error
	// TempDir is where NixOS's converted image is spooled ("" = the
	// system's temporary directory).
	TempDir string
	// Logger receives the import's log (default: discard).
	Logger *slog.Logger

	stageVMA vmaStage // nil = convertAndUploadVMA
}

// CloudImportReport says what a cloud import did or, for a dry run, would
// do.
type CloudImportReport struct {
	// OS and Release are the image's.
	OS, Release string
	// Action is what the import decided.
	Action plan.Action
	// DryRun says nothing was changed: Calls are the planned calls.
	DryRun bool
	// BaseVMID and Name are the base VM's.
	BaseVMID int
	Name     string
	// Build is the build the base VM holds (or will hold). For a no-op
	// decided from images.lock, only OS, Release, Serial, File, Checksum
	// and Algorithm are known: the publisher was not asked.
	Build CloudBuild
	// Volume is the image file on the import storage.
	Volume string
	// Locked says the build was recorded in images.lock by this run.
	Locked bool
	// Calls are the calls that can change something, in order: sent, or
	// for a dry run, planned.
	Calls []plan.Call
}

// ErrSource is returned (wrapped, with the source's own error) when the
// download site's answer stops an import: a bad signature, an unknown key,
// a missing entry, a build it no longer serves. Nothing was changed.
var ErrSource = errors.New("cloud image source")

// ErrUnknownOS is returned (wrapped) for an OS ImportCloud does not import,
// or one the inventory has no image for.
var ErrUnknownOS = errors.New("unknown OS")

// ImportCloud builds the base VM of one OS of the inventory's images
// (ubuntu, debian, arch, nixos) at images.<os>.base_vm_id from the
// distribution's official cloud image, through the Proxmox API. The build
// is the one images.lock records for the OS and release, else (and with
// Update) the newest; src verifies the publisher's signed checksum. It
// inspects first, reading only: when the base VM's marker says it holds
// the locked build, it does nothing, not even asking the publisher.
// Otherwise it plans: enable import content, have PVE download the image
// with the publisher's checksum (NixOS: convert the VMA here and upload
// it), remove the old VM (repair, replace, update), create the base VM
// with the image imported, make it a template, record the build in lock.
// A dry run reports the plan's calls; a real run executes the same plan.
// Any failure after the VM was created removes it again (purged).
func ImportCloud(ctx context.Context, inv *inventory.Inventory, pveClient CloudPVE, src Sources, lock *LockFile, osName string, opts CloudImportOptions) (*CloudImportReport, error) {
	c, err := newCloudImport(inv, pveClient, src, lock, osName, opts)
	if err != nil {
		return nil, err
	}
	p, err := c.plan(ctx)
	if err != nil {
		return nil, err
	}
	return c.execute(ctx, p)
}

// CloudResult is one OS's outcome of ImportClouds.
type CloudResult struct {
	OS     string
	Report *CloudImportReport // nil when Err is set
	Err    error
}

// ImportClouds imports several OSes (see ImportCloud) in parallel: PVE
// downloads the images itself, so the wall time is about the slowest
// import's. Each OS plans, reading only; import content is enabled once,
// for all of them, by the first OS (in the order given) whose plan needs
// it; then each executes its own plan. One OS failing does not stop the
// others. The results are in the order of oses; the error joins the
// failures.
func ImportClouds(ctx context.Context, inv *inventory.Inventory, pveClient CloudPVE, src Sources, lock *LockFile, oses []string, opts CloudImportOptions) ([]CloudResult, error) {
	for i, osName := range oses {
		if slices.Contains(oses[:i], osName) {
			return nil, fmt.Errorf("import %s: %q is listed twice: two imports of one base VM would race", strings.Join(oses, ", "), osName)
		}
	}
	res := make([]CloudResult, len(oses))
	imports := make([]*cloudImport, len(oses))
	plans := make([]plan.Plan, len(oses))
	var wg sync.WaitGroup
	for i, osName := range oses {
		res[i].OS = osName
		c, err := newCloudImport(inv, pveClient, src, lock, osName, opts)
		if err != nil {
			res[i].Err = err
			continue
		}
		imports[i] = c
		wg.Go(func() { plans[i], res[i].Err = c.plan(ctx) })
	}
	wg.Wait()
	// One storage, one content change: the first plan that enables import
	// content keeps the step, the others drop it and wait for it.
	needs := []int{}
	for i := range plans {
		if res[i].Err != nil {
			continue
		}
		plans[i].Steps = slices.DeleteFunc(plans[i].Steps, func(s plan.Step) bool {
			enables := s.Name == StepEnableImport && len(s.Calls) > 0
			if enables {
				needs = append(needs, i)
			}
			return enables && len(needs) > 1
		})
	}
	if len(needs) > 0 && !opts.DryRun {
		// Enable it before the others start, so that they find it on.
		i := needs[0]
		first := plan.Plan{Action: plans[i].Action, Steps: plans[i].Steps[:1]}
		plans[i].Steps = plans[i].Steps[1:]
		sent, err := first.Execute(ctx, imports[i].execOptions())
		if err != nil {
			for _, j := range needs {
				res[j].Err = err
			}
		}
		imports[i].enabled = sent
	}
	for i := range oses {
		if res[i].Err != nil {
			continue
		}
		wg.Go(func() { res[i].Report, res[i].Err = imports[i].execute(ctx, plans[i]) })
	}
	wg.Wait()
	var errs []error
	for _, r := range res {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.OS, r.Err))
		}
	}
	return res, errors.Join(errs...)
}

// cloudImport is one run of ImportCloud.
type cloudImport struct {
	vmImport
	up      Uploader
	inv     *inventory.Inventory
	src     Sources
	lock    *LockFile
	opts    CloudImportOptions
	os      string
	image   inventory.Image
	locked  LockedBuild // the lock's build; Serial "" when none
	rep     *CloudImportReport
	enabled []plan.Call // calls sent before the plan ran (ImportClouds)
}

func newCloudImport(inv *inventory.Inventory, pveClient CloudPVE, src Sources, lock *LockFile, osName string, opts CloudImportOptions) (*cloudImport, error) {
	img, ok := inv.Images[osName]
	if !ok || !slices.Contains(CloudOSes(), osName) {
		return nil, fmt.Errorf("%w %q: want one of %s (and an entry under images: in the inventory)", ErrUnknownOS, osName, strings.Join(CloudOSes(), ", "))
	}
	if opts.stageVMA == nil {
		opts.stageVMA = convertAndUploadVMA
	}
	var events func(plan.Event)
	if opts.Events != nil {
		events = func(ev plan.Event) { opts.Events(osName, ev) }
	}
	c := &cloudImport{up: pveClient, inv: inv, src: src, lock: lock, opts: opts, os: osName, image: img}
	// The file name is known once the build is: set in resolve.
	c.vmImport = newVMImport(inv, pveClient, img.BaseVMID, "images."+osName+".base_vm_id", "", opts.Replace, opts.Logger, events)
	c.rep = &CloudImportReport{OS: osName, Release: img.Release, BaseVMID: img.BaseVMID,
		Name: osName + "-" + strings.ReplaceAll(img.Release, ".", "-") + "-base"}
	if b, ok := lock.Build(osName, img.Release); ok {
		c.locked = b
	}
	return c, nil
}

func (c *cloudImport) execOptions() plan.Options {
	o := plan.Options{Events: c.events}
	if c.opts.AfterStep != nil {
		o.AfterStep = func(step string) error { return c.opts.AfterStep(c.os, step) }
	}
	return o
}

// execute runs (or, for a dry run, reports) the plan.
func (c *cloudImport) execute(ctx context.Context, p plan.Plan) (*CloudImportReport, error) {
	c.rep.Action = p.Action
	if c.opts.DryRun {
		c.rep.DryRun, c.rep.Calls = true, p.Calls()
		return c.rep, nil
	}
	sent, err := p.Execute(ctx, c.execOptions())
	if err != nil {
		return nil, err
	}
	c.rep.Calls = append(c.enabled, sent...)
	return c.rep, nil
}

// setBuild makes b the build the import works with.
func (c *cloudImport) setBuild(b CloudBuild) {
	c.rep.Build = b
	c.file = fmt.Sprintf("%s-%s-%s.qcow2", c.os, c.image.Release, b.Serial)
	c.volume = proxmox.VolumeFor(c.storage, "import", c.file)
	c.rep.Volume = c.volume.String()
}

// want is the image the base VM should hold: the build in c.rep.Build.
func (c *cloudImport) want() wantImage {
	rel, serial := c.image.Release, c.rep.Build.Serial
	return wantImage{
		kind: c.os,
		matches: func(m marker) bool {
			return m[markerImage] == c.os && m["release"] == rel && m["build"] == serial
		},
		holds: func(m marker) string {
			if m[markerImage] == "talos" {
				return "the Talos " + m["version"] + " template"
			}
			return fmt.Sprintf("the %s %s base VM, build %s", m[markerImage], m["release"], m["build"])
		},
		want:       fmt.Sprintf("%s %s build %s", c.os, rel, serial),
		replaceOwn: c.opts.Update,
	}
}
