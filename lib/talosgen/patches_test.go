package talosgen_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/talosgen"
)

func TestBadPatches(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		want    []string
	}{
		{name: "unknown field", file: "global/30-typo.yaml",
			content: "# a typo\nmachine:\n  kubelet:\n    extraMount:\n      - destination: /x\n",
			want:    []string{"global/30-typo.yaml:4: machine.kubelet.extraMount: unknown field for this Talos version"}},
		{name: "wrong type", file: "controlplane/30-type.yaml",
			content: "cluster:\n  allowSchedulingOnControlPlanes: true\nmachine:\n  kubelet:\n    extraMounts: /var/mnt/longhorn\n",
			want:    []string{"controlplane/30-type.yaml:5: machine.kubelet.extraMounts: cannot construct !!str"}},
		{name: "JSON6902 on a multi-document config", file: "global/40-json.yaml",
			content: "- op: add\n  path: /machine/install/disk\n  value: /dev/vda\n",
			want:    []string{"global/40-json.yaml:1: a JSON6902 patch (a list of operations): Talos v1.12 machine configs are multi-document"}},
		{name: "not a .yaml file", file: "global/50-extra.yml", content: "machine: {}\n",
			want: []string{"global/50-extra.yml: patch files end in .yaml"}},
		{name: "unknown group", file: "workers/10-x.yaml", content: "machine: {}\n",
			want: []string{"workers: not a patch group"}},
		{name: "unknown node", file: "nodes/talos-cp-09/10-x.yaml", content: "machine: {}\n",
			want: []string{`nodes/talos-cp-09: no Talos node "talos-cp-09" in the inventory`}},
		{name: "empty", file: "gpu/20-empty.yaml", content: "\n", want: []string{"gpu/20-empty.yaml: empty patch"}},
	}
	inv := loadInventory(t, homelabFile)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, patchDir, dir)
			path := filepath.Join(dir, filepath.FromSlash(tt.file))
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))

			_, err := talosgen.LoadPatches(dir, inv)
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, filepath.Join(dir, w))
			}
			var pe *talosgen.PatchError
			require.ErrorAs(t, err, &pe)
		})
	}
}

// A patch that loads but breaks the config fails generation, naming the
// node and the patches applied.
func TestPatchThatBreaksValidation(t *testing.T) {
	inv := loadInventory(t, homelabFile)
	dir := t.TempDir()
	copyDir(t, patchDir, dir)
	node := filepath.Join(dir, "nodes", "talos-cp-01")
	require.NoError(t, os.MkdirAll(node, 0o755))
	bad := filepath.Join(node, "10-vip.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: not-an-address\nlink: net0\n"), 0o644))
	patches, err := talosgen.LoadPatches(dir, inv)
	require.NoError(t, err)
	_, err = talosgen.BuildConfigs(talosgen.Sources{Inventory: inv, Bundle: fixtureBundle(t), Patches: patches})
	require.ErrorContains(t, err, "talos node talos-cp-01: "+bad+": the config is not valid for Talos v1.12.7 on metal once this is applied: Layer2VIPConfig/not-an-address: name must be a valid IP address")
}

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	}))
}
