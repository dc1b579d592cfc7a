package pve_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

func TestParseUPID(t *testing.T) {
	tests := []struct {
		in      string
		want    pve.UPID
		wantErr bool
	}{
		{
			in: "UPID:pve:000AE992:00A21BA7:618C1D55:qmcreate:100:root@pam:",
			want: pve.UPID{Node: "pve", PID: 0xAE992, PStart: 0xA21BA7, StartTime: time.Unix(0x618C1D55, 0).UTC(),
				Type: "qmcreate", ID: "100", User: "root@pam"},
		},
		{
			in: "UPID:pve:00213D37:1ECA9AD00:618F6B8D:imgcopy::infra@pve!ci:",
			want: pve.UPID{Node: "pve", PID: 0x213D37, PStart: 0x1ECA9AD00, StartTime: time.Unix(0x618F6B8D, 0).UTC(),
				Type: "imgcopy", User: "infra@pve!ci"},
		},
		{in: "UPID:pve:000AE992:00A21BA7:618C1D55:qmcreate:100:", wantErr: true},
		{in: "UPID:pve:000AE992:00A21BA7:618C1D55:qmcreate:100:root@pam", wantErr: true},
		{in: "UPID:pve:XYZ:00A21BA7:618C1D55:qmcreate:100:root@pam:", wantErr: true},
		{in: "not a upid", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := pve.ParseUPID(tt.in)
			if tt.wantErr {
				require.ErrorContains(t, err, "unable to parse worker upid")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestPropertyString(t *testing.T) {
	p, err := pve.ParsePropertyString("local-zfs:0,import-from=local:import/talos.qcow2,ssd=1,discard=on", "file")
	require.NoError(t, err)
	require.Equal(t, "local-zfs:0", p.Value("file"))
	require.Equal(t, "local:import/talos.qcow2", p.Value("import-from"))
	p.Delete("import-from")
	p.Set("file", "local-zfs:vm-100-disk-0").Set("size", "3584M")
	require.Equal(t, "local-zfs:vm-100-disk-0,discard=on,size=3584M,ssd=1", p.String())

	q, err := pve.ParsePropertyString(`virtio,bridge=vmbr0,tag="1,2"`, "model")
	require.NoError(t, err)
	require.Equal(t, "1,2", q.Value("tag"))
	require.Equal(t, `virtio,bridge=vmbr0,tag="1,2"`, q.String())

	for _, bad := range []string{"a,b", "x=1,x=2", `x="unterminated`, "=v"} {
		_, err := pve.ParsePropertyString(bad, "file")
		require.Error(t, err, bad)
	}
	_, err = pve.ParsePropertyString("bare", "")
	require.Error(t, err)
}

func TestNormalizeTags(t *testing.T) {
	got, err := pve.NormalizeTags("Talos;kubernetes,v1.12.7 talos")
	require.NoError(t, err)
	require.Equal(t, "kubernetes;talos;v1.12.7", got)
	_, err = pve.NormalizeTags("ok;bad/tag")
	require.ErrorContains(t, err, "invalid tag 'bad/tag'")
	require.Equal(t, []string{"a", "b"}, pve.SplitTags("a;b"))
}

func TestVolumeID(t *testing.T) {
	v, err := pve.ParseVolumeID("local:import/talos-v1.12.7-376567988ad3.qcow2")
	require.NoError(t, err)
	require.Equal(t, pve.VolumeID{Storage: "local", Name: "import/talos-v1.12.7-376567988ad3.qcow2"}, v)
	require.Equal(t, "local:import/talos-v1.12.7-376567988ad3.qcow2", v.String())
	for _, bad := range []string{"local", ":x", "1bad:x", "local:"} {
		_, err := pve.ParseVolumeID(bad)
		require.Error(t, err, bad)
	}
}

func ExampleParseUPID() {
	u, err := pve.ParseUPID("UPID:pve:000AE992:00A21BA7:618C1D55:download:talos.qcow2:infra@pve!ci:")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u.Describe(), "by", u.User)
	// Output: download:talos.qcow2 on pve by infra@pve!ci
}
