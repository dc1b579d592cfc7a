package packer

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/wdiazux/infra/lib/inventory"
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
