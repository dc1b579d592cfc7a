package images

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
)

// hexSum is a publisher's checksum: sha256 or sha512, lower-case hex.
var hexSum = map[string]*regexp.Regexp{"sha256": regexp.MustCompile(`^[0-9a-f]{64}$`), "sha512": regexp.MustCompile(`^[0-9a-f]{128}$`)}

// plan resolves the build, inspects the host, reading only, and lists the
// import's steps with the calls each will send.
func (c *cloudImport) plan(ctx context.Context) (plan.Plan, error) {
	rel := c.image.Release
	resolved := c.opts.Update || c.locked.Serial == ""
	if resolved {
		b, err := c.resolve(ctx, func(ctx context.Context) (CloudBuild, error) { return c.src.Latest(ctx, c.os, rel) }, "the newest build")
		if err != nil {
			return plan.Plan{}, err
		}
		c.setBuild(b)
	} else {
		l := c.locked
		c.setBuild(CloudBuild{OS: c.os, Release: rel, Serial: l.Serial, File: l.File, Checksum: l.Checksum, Algorithm: l.Algorithm})
	}
	action, holder, err := c.inspect(ctx, c.want())
	if err != nil {
		return plan.Plan{}, err
	}
	p := plan.Plan{Action: action}
	if action == plan.Unchanged {
		// The base VM holds the build: record it if the lock does not.
		if c.needsRecord() {
			p.Steps = []plan.Step{c.recordBuild()}
		}
		return p, nil
	}
	if !resolved {
		// The locked build, verified again: the checksum file and its
		// signature are read before anything changes.
		b, err := c.resolve(ctx, func(ctx context.Context) (CloudBuild, error) { return c.src.Build(ctx, c.os, rel, c.locked.Serial) }, "build "+c.locked.Serial)
		if err != nil {
			return plan.Plan{}, err
		}
		if b.Checksum != c.locked.Checksum || b.Algorithm != c.locked.Algorithm || b.File != c.locked.File {
			return plan.Plan{}, fmt.Errorf("%w: %s %s build %s: the publisher signs %s %s:%s (%s), but %s records %s %s:%s; check why before you move on with -update",
				proxmox.ErrChecksumMismatch, c.os, rel, b.Serial, b.File, b.Algorithm, b.Checksum, b.ChecksumURL, c.lock.Path(), c.locked.File, c.locked.Algorithm, c.locked.Checksum)
		}
		c.setBuild(b)
	}
	px := c.inv.Proxmox
	storage, err := c.pve.FindStorage(ctx, px.Node, px.Storage.Import)
	if err != nil {
		return plan.Plan{}, err
	}
	p.Steps = append(p.Steps, c.enableImport(storage))
	if c.os == "nixos" {
		p.Steps = append(p.Steps, c.upload())
	} else {
		b := c.rep.Build
		s, err := c.download(ctx, storage, fetch{url: b.URL, checksum: b.Checksum, algorithm: b.Algorithm,
			mismatch: fmt.Sprintf("PVE computed another %s than %s signs for %s: the download was corrupted, or the mirror serves other bytes; run again, and if it persists check the mirror", b.Algorithm, b.ChecksumURL, b.File)})
		if err != nil {
			return plan.Plan{}, err
		}
		p.Steps = append(p.Steps, s)
	}
	if action == plan.Repair || action == plan.Replace {
		p.Steps = append(p.Steps, c.removeOld(holder))
	}
	p.Steps = append(p.Steps, c.createVM(c.rep.Name, c.drive(), c.systemDisk(), c.params), c.convertToTemplate(c.rep.Name))
	if c.needsRecord() {
		p.Steps = append(p.Steps, c.recordBuild())
	}
	return p, nil
}

// resolve asks the publisher for a build, reading only, and checks what
// it returned is a build of this OS release that the import can use.
func (c *cloudImport) resolve(ctx context.Context, get func(context.Context) (CloudBuild, error), what string) (CloudBuild, error) {
	c.emit(StepResolve, fmt.Sprintf("%s %s: %s", c.os, c.image.Release, what), false)
	b, err := get(ctx)
	if err != nil {
		return CloudBuild{}, fmt.Errorf("%w: resolve %s %s (%s): %w", ErrSource, c.os, c.image.Release, what, err)
	}
	wantFormat := "qcow2"
	if c.os == "nixos" {
		wantFormat = "vma.zst"
	}
	switch re, known := hexSum[b.Algorithm]; {
	case b.OS != c.os || b.Release != c.image.Release:
		return CloudBuild{}, fmt.Errorf("resolve %s %s: the source returned a build of %s %s", c.os, c.image.Release, b.OS, b.Release)
	case b.Serial == "" || strings.ContainsAny(b.Serial, " \t\n/") || b.URL == "" || b.File == "":
		return CloudBuild{}, fmt.Errorf("resolve %s %s: the source returned an incomplete build (serial %q, URL %q, file %q)", c.os, c.image.Release, b.Serial, b.URL, b.File)
	case b.Format != wantFormat:
		return CloudBuild{}, fmt.Errorf("resolve %s %s: build %s is %q, want %s", c.os, c.image.Release, b.Serial, b.Format, wantFormat)
	case !known || !re.MatchString(b.Checksum):
		return CloudBuild{}, fmt.Errorf("resolve %s %s: build %s has checksum %s:%q, want a lower-case hex sha256 or sha512", c.os, c.image.Release, b.Serial, b.Algorithm, b.Checksum)
	}
	c.emit(StepResolve, fmt.Sprintf("build %s, %s…: %s", b.Serial, b.Checksum[:12], b.Provenance()), true)
	return b, nil
}

// needsRecord says whether images.lock lacks the build.
func (c *cloudImport) needsRecord() bool {
	b := c.rep.Build
	return c.locked != LockedBuild{OS: c.os, Release: c.image.Release, Serial: b.Serial, File: b.File, Algorithm: b.Algorithm, Checksum: b.Checksum}
}

// recordBuild records the build in images.lock: last, once the base VM
// holds it (or, for a no-op, because it already does).
func (c *cloudImport) recordBuild() plan.Step {
	b := c.rep.Build
	return plan.Step{Name: StepRecordBuild, Detail: b.Serial, Run: func(context.Context, plan.Progress) (string, error) {
		if err := c.lock.Record(LockedBuild{OS: c.os, Release: c.image.Release, Serial: b.Serial, File: b.File, Algorithm: b.Algorithm, Checksum: b.Checksum}); err != nil {
			return "", err
		}
		c.rep.Locked = true
		return fmt.Sprintf("%s %s build %s recorded in %s", c.os, c.image.Release, b.Serial, c.lock.Path()), nil
	}}
}

// upload converts NixOS's VMA on this machine and uploads the qcow2.
// The converted image's checksum is known only after the conversion, so a
// file already on the storage cannot be verified: it is uploaded again.
func (c *cloudImport) upload() plan.Step {
	b := c.rep.Build
	return plan.Step{
		Name:    StepUpload,
		Detail:  b.File + " → " + c.file,
		Metered: true,
		Calls: []plan.Call{{Method: http.MethodPost, Path: "/nodes/" + c.node + "/storage/" + c.storage + "/upload",
			Params: []plan.Param{{Key: "content", Value: "import"}, {Key: "checksum-algorithm", Value: "sha256"}},
			Note:   c.file + ", converted here from " + b.URL}},
		Run: func(ctx context.Context, progress plan.Progress) (string, error) {
			r, err := c.src.Open(ctx, b)
			if err != nil {
				return "", fmt.Errorf("open %s: %w", b.URL, err)
			}
			defer r.Close()
			sum, err := c.opts.stageVMA(ctx, c.up, vmaUpload{Node: c.node, Storage: c.storage, File: c.file, Drive: nixosDrive, Source: r, TempDir: c.opts.TempDir,
				Progress: func(stage string, done, total int64) {
					if total > 0 {
						progress(float64(done)*100/float64(total), stage)
					}
				}})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("uploaded %s (sha256 %s…, verified by PVE)", c.file, sum[:min(12, len(sum))]), nil
		},
	}
}

// nixosDrive is the drive NixOS's Proxmox image is built for: nixpkgs'
// proxmox-image.nix archives its disk as drive-virtio0 and installs GRUB
// to /dev/vda, so a clone's nixos-rebuild switch finds its boot disk only
// on virtio0. uploadVMA checks the archive says so.
const nixosDrive = "virtio0"

// drive is the base VM's system drive: scsi0 (virtio-scsi-single), or for
// NixOS the drive its image is built for.
func (c *cloudImport) drive() string {
	if c.os == "nixos" {
		return nixosDrive
	}
	return "scsi0"
}

// systemDisk is the system drive, imported from the image file; a virtio
// block drive has no ssd flag.
func (c *cloudImport) systemDisk() string {
	return c.importedDisk(c.inv.Proxmox.Storage.Disks, c.drive() == "scsi0")
}

// params are the base VM's settings: what Packer's proxmox-clone needs to
// boot a clone of it (cloud-init drive, serial console the cloud images
// log to, the guest agent) and what records its image.
func (c *cloudImport) params() proxmox.Params {
	px := c.inv.Proxmox
	return proxmox.Params{
		"name":        c.rep.Name,
		"machine":     "q35",
		"cpu":         "host",
		"cores":       2,
		"memory":      "2048",
		"ostype":      "l26",
		"scsihw":      "virtio-scsi-single",
		c.drive():     c.systemDisk(),
		"ide2":        px.Storage.Disks + ":cloudinit",
		"boot":        "order=" + c.drive(),
		"serial0":     "socket",
		"vga":         "serial0",
		"net0":        proxmox.NIC{Bridge: px.Bridge}.String(),
		"agent":       "enabled=1",
		"tags":        strings.Join([]string{inventory.ManagedTag, c.os, "base"}, ";"),
		"description": c.description(),
	}
}

// description records the image for people, and the marker lines the next
// run reads.
func (c *cloudImport) description() string {
	b := c.rep.Build
	signed := b.SignedBy
	if signed == "" {
		signed = "not signed by the publisher"
	}
	return fmt.Sprintf("%s %s base VM from the official cloud image, built by infra (github.com/wdiazux/infra/lib/images). The lines below are read back: do not edit them.\n"+
		"%s: %s\nrelease: %s\nbuild: %s\nsource: %s\nfile: %s\n%s: %s\nchecksum file: %s\nsigned by: %s\n",
		c.os, b.Release, markerImage, c.os, b.Release, b.Serial, b.URL, b.File, b.Algorithm, b.Checksum, b.ChecksumURL, signed)
}
