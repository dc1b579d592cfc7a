package packer_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// pluginTemplate is a simulator holding VM 9402 as Packer's proxmox plugin
// 1.1.0 leaves a Windows template: efidisk0 "<storage>:1" (no efitype, no
// keys), no TPM, converted to a template.
func pluginTemplate(t *testing.T) (*proxmox.Client, *pvesim.Server) {
	t.Helper()
	sim, err := pvesim.New()
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	id, secret := sim.Token()
	c, err := proxmox.New(proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint()})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.CreateVM(ctx, "pve", 9402, proxmox.Params{
		"name": "windows-2025-template", "machine": "q35", "bios": "ovmf", "ostype": "win11",
		"efidisk0": "local-zfs:1", "scsi0": "local-zfs:8", "scsihw": "virtio-scsi-single",
	}, nil)
	require.NoError(t, err)
	require.NoError(t, c.ConvertToTemplate(ctx, "pve", 9402))
	return c, sim
}

func TestEnsureSecureBootTPM(t *testing.T) {
	c, _ := pluginTemplate(t)
	ctx := context.Background()
	before, err := c.VMConfig(ctx, "pve", 9402)
	require.NoError(t, err)
	oldEFI, _ := before.Disk("efidisk0")

	changed, err := packer.EnsureSecureBootTPM(ctx, c, "pve", 9402, "local-zfs")
	require.NoError(t, err)
	require.True(t, changed)
	cfg, err := c.VMConfig(ctx, "pve", 9402)
	require.NoError(t, err)
	efi, ok := cfg.Disk("efidisk0")
	require.True(t, ok)
	require.Equal(t, "4m", efi.Value("efitype"))
	require.Equal(t, "1", efi.Value("pre-enrolled-keys"), "Secure Boot on with the Microsoft keys")
	require.NotEqual(t, oldEFI.Value("file"), efi.Value("file"))
	tpm, ok := cfg.Disk("tpmstate0")
	require.True(t, ok, "a TPM: %v", cfg.Values)
	require.Equal(t, "v2.0", tpm.Value("version"))
	require.True(t, cfg.Template())
	for k, v := range cfg.Values {
		require.NotEqual(t, oldEFI.Value("file"), v, "the replaced EFI disk is freed, not kept as %s", k)
	}

	changed, err = packer.EnsureSecureBootTPM(ctx, c, "pve", 9402, "local-zfs")
	require.NoError(t, err)
	require.False(t, changed, "a second run changes nothing")
}

func TestEnsureSecureBootTPMNoVM(t *testing.T) {
	c, _ := pluginTemplate(t)
	_, err := packer.EnsureSecureBootTPM(context.Background(), c, "pve", 9999, "local-zfs")
	require.ErrorIs(t, err, proxmox.ErrVMNotFound)
	require.Contains(t, err.Error(), "secure boot and TPM for VM 9999 on node pve")
}
