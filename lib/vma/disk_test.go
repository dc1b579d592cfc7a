package vma

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDisk(t *testing.T) {
	one := []testDev{{name: "drive-scsi0", size: 4 * ClusterSize}}
	withState := []testDev{{name: "drive-virtio0", size: 4 * ClusterSize}, {name: "vmstate", size: ClusterSize}}
	two := []testDev{{name: "drive-scsi0", size: 4 * ClusterSize}, {name: "drive-efidisk0", size: ClusterSize}}
	tests := []struct {
		name    string
		devs    []testDev
		choose  string
		want    Device
		wantErr string
		is      error
	}{
		{name: "the single disk", devs: one, want: Device{ID: 1, Name: "drive-scsi0", Size: 4 * ClusterSize}},
		{name: "vmstate is not a disk", devs: withState, want: Device{ID: 1, Name: "drive-virtio0", Size: 4 * ClusterSize}},
		{name: "two disks", devs: two, is: ErrDiskChoice,
			wantErr: `vma: the archive has 2 disk devices (1 "drive-scsi0", 2 "drive-efidisk0"): choose one by name`},
		{name: "two disks, one chosen", devs: two, choose: "drive-efidisk0", want: Device{ID: 2, Name: "drive-efidisk0", Size: ClusterSize}},
		{name: "chosen disk missing", devs: two, choose: "drive-sata0", is: ErrDiskChoice,
			wantErr: `vma: no disk device "drive-sata0" in the archive (1 "drive-scsi0", 2 "drive-efidisk0")`},
		{name: "only vmstate", devs: []testDev{{name: "vmstate", size: ClusterSize}}, is: ErrDiskChoice,
			wantErr: `vma: the archive has no disk device (only 1 "vmstate")`},
		{name: "vmstate cannot be chosen", devs: withState, choose: "vmstate", is: ErrDiskChoice,
			wantErr: `vma: no disk device "vmstate" in the archive (1 "drive-virtio0")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(buildVMA(t, nil, tt.devs)))
			require.NoError(t, err)
			got, err := r.Disk(tt.choose)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, tt.is)
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
