package packer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox"
)

// Packer's proxmox plugin 1.1.0 creates the EFI disk as "<storage>:1" (no
// efitype, no pre-enrolled keys: Secure Boot off) and knows no TPM. Windows
// Server 2025 installs without either, so the template is built that way
// and then given what it expects through the API: a 4m EFI disk with the
// distribution and Microsoft keys enrolled (Secure Boot on; Windows' boot
// manager is Microsoft-signed and starts from the ESP's fallback path) and a
// TPM 2.0 state volume. The replaced EFI disk is freed.

// FirmwareClient is what EnsureSecureBootTPM needs of the PVE API.
type FirmwareClient interface {
	VMConfig(ctx context.Context, node string, vmid int) (proxmox.VMConfig, error)
	UpdateVMConfig(ctx context.Context, node string, vmid int, params proxmox.Params, digest string) error
}

// TPMState renders a TPM 2.0 state volume on storage: "local-zfs:1,version=v2.0".
func TPMState(storage string) string { return storage + ":1,version=v2.0" }

// EnsureSecureBootTPM gives VM vmid a Secure Boot EFI disk and a TPM 2.0
// state on storage, unless it has them, and frees the EFI disk it replaces.
// It reports whether it changed anything.
func EnsureSecureBootTPM(ctx context.Context, c FirmwareClient, node string, vmid int, storage string) (bool, error) {
	cfg, err := c.VMConfig(ctx, node, vmid)
	if err != nil {
		return false, fmt.Errorf("secure boot and TPM for VM %d on node %s: %w", vmid, node, err)
	}
	params := proxmox.Params{}
	efi, hasEFI := cfg.Disk("efidisk0")
	if !hasEFI || efi.Value("efitype") != "4m" || efi.Value("pre-enrolled-keys") != "1" {
		params["efidisk0"] = proxmox.EFIDisk{Storage: storage, PreEnrolledKeys: true}.String()
	}
	if tpm, ok := cfg.Disk("tpmstate0"); !ok || tpm.Value("version") != "v2.0" {
		params["tpmstate0"] = TPMState(storage)
	}
	if len(params) == 0 {
		return false, nil
	}
	if err := c.UpdateVMConfig(ctx, node, vmid, params, cfg.Digest); err != nil {
		return false, fmt.Errorf("secure boot and TPM for VM %d on node %s: set %s: %w", vmid, node, strings.Join(keys(params), ", "), err)
	}
	if !hasEFI || params["efidisk0"] == nil {
		return true, nil
	}
	// PVE keeps the replaced EFI disk as an unusedN entry: free it.
	after, err := c.VMConfig(ctx, node, vmid)
	if err != nil {
		return true, fmt.Errorf("secure boot and TPM for VM %d on node %s: read the config after the change: %w", vmid, node, err)
	}
	old := efi.Value("file")
	for k, v := range after.Values {
		if strings.HasPrefix(k, "unused") && v == old {
			if err := c.UpdateVMConfig(ctx, node, vmid, proxmox.Params{"delete": k}, after.Digest); err != nil {
				return true, fmt.Errorf("secure boot and TPM for VM %d on node %s: free the old EFI disk %s (%s): %w", vmid, node, old, k, err)
			}
		}
	}
	return true, nil
}

func keys(p proxmox.Params) []string {
	out := make([]string, 0, len(p))
	for k := range p {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
