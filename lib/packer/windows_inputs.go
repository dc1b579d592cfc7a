package packer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
)

// The Windows template's variables for its installation media: a volume
// on the ISO storage (…_file) or a URL Packer downloads and uploads with
// its checksum (…_url, …_checksum).
const (
	VarWindowsISOFile     = "windows_iso_file"
	VarWindowsISOURL      = "windows_iso_url"
	VarWindowsISOChecksum = "windows_iso_checksum"
	VarVirtioISOFile      = "virtio_iso_file"
	VarVirtioISOURL       = "virtio_iso_url"
	VarVirtioISOChecksum  = "virtio_iso_checksum"
)

// ErrNoMedia is returned (wrapped) by WindowsMediaVars when the inventory
// names no installation ISOs for the Windows template.
var ErrNoMedia = errors.New("no installation media")

// WindowsMediaVars returns the Windows template's media variables for the
// inventory's images.windows.media (which lib/inventory has validated: each
// ISO a volume, or an http(s) URL with its checksum).
func WindowsMediaVars(inv *inventory.Inventory) (map[string]string, error) {
	m := inv.Images["windows"].Media
	if !m.Set() {
		return nil, fmt.Errorf("%w: images.windows.media is not set in the inventory: give the Windows Server 2025 ISO and the virtio-win ISO (media.iso, media.virtio_iso: volumes on proxmox.storage.iso such as local:iso/windows-server-2025.iso, or https URLs with media.iso_checksum / media.virtio_iso_checksum)", ErrNoMedia)
	}
	vars := map[string]string{}
	mediaVars(vars, m.ISO, m.ISOChecksum, VarWindowsISOFile, VarWindowsISOURL, VarWindowsISOChecksum)
	mediaVars(vars, m.VirtioISO, m.VirtioISOChecksum, VarVirtioISOFile, VarVirtioISOURL, VarVirtioISOChecksum)
	return vars, nil
}

// mediaVars sets one ISO's variables: the volume, or the URL and checksum.
func mediaVars(vars map[string]string, iso, sum, fileVar, urlVar, sumVar string) {
	if u, err := url.Parse(iso); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		vars[urlVar], vars[sumVar] = iso, sum
		return
	}
	vars[fileVar] = iso
}

// WindowsFirmware is the Windows template's BuildRequest.AfterBuild: the
// Secure Boot EFI disk and TPM 2.0 state (EnsureSecureBootTPM) on storage,
// the inventory's proxmox.storage.disks.
func WindowsFirmware(c FirmwareClient, storage string) func(ctx context.Context, node string, vmid int) error {
	return func(ctx context.Context, node string, vmid int) error {
		_, err := EnsureSecureBootTPM(ctx, c, node, vmid, storage)
		return err
	}
}

// Inputs are what a template needs besides the inventory and the
// connection.
type Inputs struct {
	// Options are Runner options: the Windows admin password as a
	// sensitive variable, Packer's temporary directory in memory.
	Options []Option
	// Vars are template variables for validate and build
	// (BuildRequest.Vars).
	Vars map[string]string
	// AfterBuild is BuildRequest.AfterBuild.
	AfterBuild func(ctx context.Context, node string, vmid int) error
	// Warnings are what the person running the build should be told.
	Warnings []string
}

// TemplateInputs returns tpl's Inputs. The Linux templates need none. The
// Windows template needs its ISOs (WindowsMediaVars: ErrNoMedia without
// images.windows.media), the password of WindowsSecretFile under root
// (WindowsPassword, with opts), Packer's temporary directory in memory
// (MemoryTempDir; a warning when there is none: Packer writes the answer
// files, password included, there before it puts them on the CD) and the
// Secure Boot EFI disk and TPM state after the build (WindowsFirmware on
// proxmox.storage.disks).
func TemplateInputs(ctx context.Context, root string, inv *inventory.Inventory, fw FirmwareClient, tpl Template, opts ...secrets.Option) (Inputs, error) {
	if tpl.Name != "windows" {
		return Inputs{}, nil
	}
	vars, err := WindowsMediaVars(inv)
	if err != nil {
		return Inputs{}, err
	}
	pw, err := WindowsPassword(ctx, filepath.Join(root, WindowsSecretFile), opts...)
	if err != nil {
		return Inputs{}, err
	}
	in := Inputs{Options: []Option{WithSecretVar(WindowsPasswordKey, pw)}, Vars: vars, AfterBuild: WindowsFirmware(fw, inv.Proxmox.Storage.Disks)}
	if dir, err := MemoryTempDir(); err == nil {
		in.Options = append(in.Options, WithTempDir(dir))
	} else {
		in.Warnings = append(in.Warnings, fmt.Sprintf("Packer's temporary copy of the answer files (with the password) goes to disk until the CD is built: %v", err))
	}
	return in, nil
}
