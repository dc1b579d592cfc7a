package packer_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/packer"
)

func TestLoadTemplate(t *testing.T) {
	ubuntu, err := packer.LoadTemplate(filepath.Join(repo, "packer", "ubuntu"))
	require.NoError(t, err)
	require.Equal(t, "ubuntu", ubuntu.Name)
	require.Equal(t, packer.SourceClone, ubuntu.SourceType)
	require.Equal(t, "golden", ubuntu.SourceName)
	require.Equal(t, "virtio-scsi-single", ubuntu.SCSIController)
	require.Equal(t, "host", ubuntu.CPUType)
	require.True(t, filepath.IsAbs(ubuntu.File))

	tests := []struct {
		dir, want string
		line      int
	}{
		{dir: "two-sources", want: "has 2 source blocks; a template builds from exactly one"},
		{dir: "no-cpu", line: 1, want: "does not set cpu_type: plugin 1.1.0 then resets the VM's to its own default (lsi, kvm64); set it"},
		{dir: "expr-scsi", line: 6, want: "scsi_controller must be a literal string"},
		{dir: "docker", line: 1, want: `source "docker": the templates build with proxmox-clone or proxmox-iso`},
		{dir: "missing", want: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := packer.LoadTemplate(filepath.Join("testdata", tt.dir))
			require.ErrorContains(t, err, tt.want)
			var terr *packer.TemplateError
			if errors.As(err, &terr) {
				require.Equal(t, tt.line, terr.Line)
				require.Equal(t, tt.dir+".pkr.hcl", filepath.Base(terr.File))
			}
		})
	}
}

func TestTemplatesListsThePackerDirectory(t *testing.T) {
	all, err := packer.Templates(repo)
	require.NoError(t, err)
	var names []string
	for _, tpl := range all {
		names = append(names, tpl.Name)
	}
	require.Subset(t, names, []string{"arch", "debian", "nixos", "ubuntu"})
	require.IsIncreasing(t, names)

	_, err = packer.FindTemplate(repo, "gentoo")
	require.ErrorIs(t, err, packer.ErrUnknownTemplate)
	require.ErrorContains(t, err, `"gentoo"`)
	require.ErrorContains(t, err, "ubuntu")
}
