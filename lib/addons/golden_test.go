package addons_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// repoRoot is the folder holding kubernetes/ and homelab.yaml.
const repoRoot = "../.."

// loadHomelab loads the repository's homelab.yaml; each call returns a new
// copy the test may change.
func loadHomelab(t testing.TB) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(filepath.Join(repoRoot, "homelab.yaml"))
	require.NoError(t, err)
	return inv
}

// withNodes returns inv with n Talos nodes: the first one, then workers.
func withNodes(inv *inventory.Inventory, n int) *inventory.Inventory {
	nodes := inv.Talos.Nodes[:1]
	for i := 1; i < n; i++ {
		w := nodes[0]
		w.Name = fmt.Sprintf("talos-wk-%02d", i)
		w.Role = inventory.RoleWorker
		w.VMID += i
		w.IP = w.IP.Prev().Prev().Prev().Prev()
		for range i - 1 {
			w.IP = w.IP.Next()
		}
		w.GPU = inventory.GPU{}
		nodes = append(nodes, w)
	}
	inv.Talos.Nodes = nodes
	return inv
}

func releases(t testing.TB, inv *inventory.Inventory) []helmdeploy.Release {
	t.Helper()
	rels, err := addons.Releases(inv, repoRoot)
	require.NoError(t, err)
	return rels
}

// goldenFiles are, per release, its computed values (values.yaml) or its
// rendered manifests (manifests.yaml), with its chart and dependencies.
func goldenFiles(t testing.TB, rels []helmdeploy.Release) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, r := range rels {
		head := map[string]any{"name": r.Name, "namespace": r.Namespace, "dependsOn": r.DependsOn, "namespaceLabels": r.NamespaceLabels}
		if r.Chart != nil {
			head["chart"] = r.Chart
		}
		h, err := yaml.Marshal(head)
		require.NoError(t, err)
		out[r.Name+"/release.yaml"] = h
		if r.Manifests != nil {
			out[r.Name+"/manifests.yaml"] = r.Manifests
			continue
		}
		v, err := yaml.Marshal(r.Values)
		require.NoError(t, err)
		out[r.Name+"/values.yaml"] = v
	}
	return out
}

// TestGolden compares every release of the repository's homelab.yaml with
// testdata/golden/homelab (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	for name, inv := range map[string]*inventory.Inventory{
		"homelab":            loadHomelab(t),
		"three-nodes-no-gpu": noGPU(withNodes(loadHomelab(t), 3)),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", name)
			files := goldenFiles(t, releases(t, inv))
			if *update {
				require.NoError(t, os.RemoveAll(dir))
				for f, data := range files {
					require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
					require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
				}
			}
			var onDisk []string
			require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					onDisk = append(onDisk, rel)
				}
				return err
			}))
			require.Len(t, onDisk, len(files), "golden files on disk and releases differ; run with -update")
			for f, data := range files {
				want, err := os.ReadFile(filepath.Join(dir, f))
				require.NoError(t, err, "run with -update")
				require.Equal(t, string(want), string(data), f)
			}
		})
	}
}

// noGPU turns every node's GPU off.
func noGPU(inv *inventory.Inventory) *inventory.Inventory {
	for i := range inv.Talos.Nodes {
		inv.Talos.Nodes[i].GPU = inventory.GPU{}
	}
	return inv
}
