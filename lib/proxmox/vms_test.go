package proxmox_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

func TestVMConfigOfAMissingVMIsErrVMNotFound(t *testing.T) {
	e := newEnv(t)
	_, err := e.client.VMConfig(context.Background(), "pve", 9000)
	require.ErrorIs(t, err, proxmox.ErrVMNotFound)
	require.True(t, proxmox.IsNotFound(err), "the API error stays in the chain")
	require.ErrorContains(t, err, "VM 9000 on node pve")
	require.ErrorContains(t, err, "Configuration file 'nodes/pve/qemu-server/9000.conf' does not exist")
}

// TestPendingBaseDisks: qemu-server's template_create renames every drive
// but CD-ROMs and unused volumes to base-<vmid>-disk-<n>
// (src/PVE/QemuServer.pm, template_create; vdisk_create_base).
func TestPendingBaseDisks(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		want   []string
	}{
		{name: "a finished template", values: map[string]string{"template": "1",
			"scsi0": "local-zfs:base-9000-disk-1,size=150G", "efidisk0": "local-zfs:base-9000-disk-0,efitype=4m,size=1M"}},
		{name: "a file-based storage", values: map[string]string{"scsi0": "local:9000/base-9000-disk-0.qcow2,size=2G"}},
		{name: "no disk was renamed", values: map[string]string{"template": "1",
			"scsi0": "local-zfs:vm-9000-disk-1,size=150G", "efidisk0": "local-zfs:vm-9000-disk-0,efitype=4m,size=1M"},
			want: []string{"efidisk0", "scsi0"}},
		{name: "the first disk was renamed", values: map[string]string{"template": "1",
			"scsi0": "local-zfs:base-9000-disk-1,size=150G", "efidisk0": "local-zfs:vm-9000-disk-0,efitype=4m,size=1M"},
			want: []string{"efidisk0"}},
		{name: "another VM's base volume", values: map[string]string{"scsi0": "local-zfs:base-9001-disk-0,size=2G"}, want: []string{"scsi0"}},
		{name: "CD-ROMs and unused volumes are not converted", values: map[string]string{
			"ide2": "local:iso/talos.iso,media=cdrom", "sata0": "none,media=cdrom", "unused0": "local-zfs:vm-9000-disk-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, proxmox.VMConfig{Values: tt.values}.PendingBaseDisks(9000))
		})
	}
}

func TestVMConfigAccessors(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 9000, Name: "tmpl", Tags: "Talos;infra-managed", Template: true}}
	e := newEnv(t, pvesim.WithSetup(setup))
	require.True(t, e.sim.HoldLock(9000, "backup"))
	cfg, err := e.client.VMConfig(context.Background(), "pve", 9000)
	require.NoError(t, err)
	require.True(t, cfg.Template())
	require.Equal(t, "backup", cfg.Lock())
	require.Equal(t, []string{"infra-managed", "talos"}, cfg.Tags())
	require.True(t, cfg.HasTag("TALOS"))
}
