package talostest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

var (
	repo           = filepath.Join("..", "..")
	threeNodesFile = filepath.Join(repo, "lib", "talosgen", "testdata", "three-nodes.yaml")
)

// TestNew: the configs and the talosconfig are in Dir, one simulated node
// per inventory node answers, and the nodes are left in maintenance mode,
// configured, or bootstrapped as asked.
func TestNew(t *testing.T) {
	tests := []struct {
		name             string
		opts             []talostest.Option
		applies, bootsts int
	}{
		{name: "maintenance mode"},
		{name: "Applied", opts: []talostest.Option{talostest.Applied()}, applies: 4},
		{name: "Bootstrapped", opts: []talostest.Option{talostest.Bootstrapped()}, applies: 4, bootsts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := talostest.New(t, threeNodesFile, tt.opts...)
			require.Equal(t, []string{"talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-gpu-01"}, e.Names)
			for _, n := range e.Inv.Talos.Nodes {
				require.FileExists(t, filepath.Join(e.Dir, n.Name+".yaml"))
				require.NotEmpty(t, e.Endpoint(n))
			}
			tc, err := os.ReadFile(filepath.Join(e.Dir, talosgen.TalosconfigFile))
			require.NoError(t, err)
			require.Equal(t, e.Talosconfig, tc)
			require.Len(t, e.Requests("ApplyConfiguration"), tt.applies)
			require.Len(t, e.Requests("Bootstrap"), tt.bootsts)
		})
	}
}

// TestNewPassesTheOptions: the nodes get WithNodeOptions' options, the
// configs WithPatchDir's patches.
func TestNewPassesTheOptions(t *testing.T) {
	var seen []nodesim.Request
	e := talostest.New(t, threeNodesFile, talostest.Applied(),
		talostest.WithNodeOptions(nodesim.WithRequestHook(func(r nodesim.Request) { seen = append(seen, r) })),
		talostest.WithPatchDir(filepath.Join("testdata", "patches")))
	require.Len(t, seen, 4, "the hook saw the applies")
	cfg, err := os.ReadFile(filepath.Join(e.Dir, "talos-cp-01.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(cfg), "talostest-patch-marker")
}

// TestRepository: .sops.yaml names only the fresh key, the patches are
// the repository's, the bundle on disk opens with the key, and Start runs
// the configs generated there.
func TestRepository(t *testing.T) {
	inv, err := inventory.Load(threeNodesFile)
	require.NoError(t, err)
	root := t.TempDir()
	id, bundle := talostest.Repository(t, repo, root, inv)

	sops, err := os.ReadFile(filepath.Join(root, secrets.ConfigFile))
	require.NoError(t, err)
	recipients := regexp.MustCompile(`age1[0-9a-z]{58}`).FindAllString(string(sops), -1)
	require.NotEmpty(t, recipients)
	for _, r := range recipients {
		require.Equal(t, id.Recipient().String(), r)
	}
	want, err := os.ReadDir(filepath.Join(repo, talosgen.DefaultPatchDir))
	require.NoError(t, err)
	got, err := os.ReadDir(filepath.Join(root, talosgen.DefaultPatchDir))
	require.NoError(t, err)
	require.Len(t, got, len(want))
	saved, err := talosgen.LoadBundle(filepath.Join(root, talosgen.DefaultBundleFile), secrets.WithIdentities(id))
	require.NoError(t, err)
	require.Equal(t, bundle.Cluster.ID, saved.Cluster.ID)

	// The repository generates its configs as talos:genconfig does, and
	// Start runs the cluster from them.
	_, err = talosgen.SyncConfigs(t.Context(), inv, talosgen.SyncOptions{Root: root, Secrets: []secrets.Option{secrets.WithIdentities(id)}})
	require.NoError(t, err)
	e := talostest.Start(t, inv, saved, filepath.Join(root, talosgen.DefaultOutDir), talostest.Bootstrapped())
	require.Equal(t, []string{"talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-gpu-01"}, e.Names)
	require.Len(t, e.Requests("ApplyConfiguration"), 4)
	require.Len(t, e.Requests("Bootstrap"), 1)
	require.Nil(t, e.Talosconfig)
}

// TestRepositoryRoot: found from a package's folder; none above a
// temporary folder.
func TestRepositoryRoot(t *testing.T) {
	root, err := talostest.RepositoryRoot(".")
	require.NoError(t, err)
	want, err := filepath.Abs(repo)
	require.NoError(t, err)
	require.Equal(t, want, root)

	dir := t.TempDir()
	_, err = talostest.RepositoryRoot(dir)
	require.ErrorContains(t, err, "no go.mod of module github.com/wdiazux/infra in "+dir+" or above")
}
