package packer_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/secrets"
)

// TestWindowsMediaVars: each ISO becomes the template's volume variable,
// or its URL and checksum variables; no media is ErrNoMedia, naming the
// inventory field to set.
func TestWindowsMediaVars(t *testing.T) {
	const sum = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name  string
		media inventory.Media
		want  map[string]string
	}{
		{"volumes", inventory.Media{ISO: "local:iso/win.iso", VirtioISO: "local:iso/virtio-win.iso"},
			map[string]string{packer.VarWindowsISOFile: "local:iso/win.iso", packer.VarVirtioISOFile: "local:iso/virtio-win.iso"}},
		{"urls", inventory.Media{ISO: "https://example.com/win.iso", ISOChecksum: sum, VirtioISO: "http://mirror.lan/virtio.iso", VirtioISOChecksum: sum},
			map[string]string{packer.VarWindowsISOURL: "https://example.com/win.iso", packer.VarWindowsISOChecksum: sum,
				packer.VarVirtioISOURL: "http://mirror.lan/virtio.iso", packer.VarVirtioISOChecksum: sum}},
		{"mixed", inventory.Media{ISO: "local:iso/win.iso", VirtioISO: "https://example.com/virtio.iso", VirtioISOChecksum: sum},
			map[string]string{packer.VarWindowsISOFile: "local:iso/win.iso", packer.VarVirtioISOURL: "https://example.com/virtio.iso", packer.VarVirtioISOChecksum: sum}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &inventory.Inventory{Images: map[string]inventory.Image{"windows": {Media: tt.media}}}
			vars, err := packer.WindowsMediaVars(inv)
			require.NoError(t, err)
			require.Equal(t, tt.want, vars)
		})
	}
	_, err := packer.WindowsMediaVars(&inventory.Inventory{Images: map[string]inventory.Image{"windows": {}}})
	require.ErrorIs(t, err, packer.ErrNoMedia)
	require.ErrorContains(t, err, "images.windows.media is not set")
}

// TestSecretVarReachesOnlyPackersEnvironment: a WithSecretVar value is in
// Packer's environment as PKR_VAR_<name>, and scrubbed from its output
// like the token.
func TestSecretVarReachesOnlyPackersEnvironment(t *testing.T) {
	dir := t.TempDir()
	tpl, err := packer.FindTemplate(repo, "windows")
	require.NoError(t, err)
	const password = "Correct-Horse-Battery-9"
	bin := filepath.Join(dir, "packer")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\nenv > \""+dir+"/env\"\necho \"a plugin prints $PKR_VAR_windows_admin_password\"\n"), 0o755))
	var out bytes.Buffer
	r, err := packer.New(packer.WithBinary(bin), packer.WithSecretVar(packer.WindowsPasswordKey, packer.NewSecret(password)), packer.WithOutput(&out))
	require.NoError(t, err)
	require.NoError(t, r.Validate(context.Background(), tpl, nil))
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	require.NoError(t, err)
	require.Contains(t, strings.Split(string(env), "\n"), "PKR_VAR_windows_admin_password="+password)
	require.Equal(t, "a plugin prints <sensitive>\n", out.String())
}

// TestTemplateInputs: the Linux templates need nothing; the Windows
// template gets its ISOs, its password as a sensitive variable and its
// firmware step, and is refused without media or without its secret.
func TestTemplateInputs(t *testing.T) {
	ctx := context.Background()
	linux, err := packer.FindTemplate(repo, "ubuntu")
	require.NoError(t, err)
	windows, err := packer.FindTemplate(repo, "windows")
	require.NoError(t, err)
	media := inventory.Media{ISO: "local:iso/win.iso", VirtioISO: "local:iso/virtio-win.iso"}
	inv := &inventory.Inventory{Images: map[string]inventory.Image{"windows": {Media: media}}}
	inv.Proxmox.Storage.Disks = "local-zfs"

	in, err := packer.TemplateInputs(ctx, repo, inv, nil, linux)
	require.NoError(t, err)
	require.Zero(t, in.Options)
	require.Nil(t, in.Vars)
	require.Nil(t, in.AfterBuild)

	path, id := sealed(t, "windows_admin_password: "+testPassword+"\n")
	root := filepath.Dir(filepath.Dir(path))
	in, err = packer.TemplateInputs(ctx, root, inv, nil, windows, secrets.WithIdentities(id))
	require.NoError(t, err)
	require.Equal(t, map[string]string{packer.VarWindowsISOFile: media.ISO, packer.VarVirtioISOFile: media.VirtioISO}, in.Vars)
	require.NotNil(t, in.AfterBuild)
	require.NotEmpty(t, in.Options)
	if len(in.Warnings) > 0 {
		require.Contains(t, in.Warnings[0], "goes to disk")
	}

	_, err = packer.TemplateInputs(ctx, t.TempDir(), inv, nil, windows, secrets.WithIdentities(id))
	var pwErr *packer.WindowsPasswordError
	require.ErrorAs(t, err, &pwErr)

	noMedia := &inventory.Inventory{Images: map[string]inventory.Image{"windows": {}}}
	_, err = packer.TemplateInputs(ctx, root, noMedia, nil, windows, secrets.WithIdentities(id))
	require.ErrorIs(t, err, packer.ErrNoMedia)
}
