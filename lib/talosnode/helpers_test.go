package talosnode_test

import (
	"os"
	"path/filepath"
	"testing"

	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

var (
	homelabFile    = filepath.Join("..", "..", "homelab.yaml")
	threeNodesFile = filepath.Join("..", "talosgen", "testdata", "three-nodes.yaml")
	patchDir       = filepath.Join("..", "..", "talos", "patches")
)

// env is a generated cluster, its simulated nodes, and a Cluster pointed
// at them.
type env struct {
	inv     *inventory.Inventory
	bundle  *tsecrets.Bundle
	dir     string
	sim     *nodesim.Sim
	cluster *talosnode.Cluster
}

// newEnv generates the configs and talosconfig of an inventory into a
// temporary directory, as talos:genconfig does, and starts its nodes in
// maintenance mode.
func newEnv(t testing.TB, invFile string, opts ...nodesim.Option) *env {
	t.Helper()
	inv, err := inventory.Load(invFile)
	require.NoError(t, err)
	bundle, err := talosgen.NewBundle(inv)
	require.NoError(t, err)
	patches, err := talosgen.LoadPatches(patchDir, inv)
	require.NoError(t, err)
	res, err := talosgen.BuildConfigs(talosgen.Sources{Inventory: inv, Bundle: bundle, Patches: patches})
	require.NoError(t, err)
	dir := t.TempDir()
	var names []string
	for _, n := range res.Nodes {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n.Node.Name+".yaml"), n.Config, 0o600))
		names = append(names, n.Node.Name)
	}
	tc, err := talosgen.Talosconfig(inv, bundle)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, talosgen.TalosconfigFile), tc, 0o600))
	sim, err := nodesim.New(bundle, names, opts...)
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	c := talosnode.New(inv, dir, talosnode.WithEndpoints(func(n inventory.TalosNode) string { return sim.Endpoint(n.Name) }))
	return &env{inv: inv, bundle: bundle, dir: dir, sim: sim, cluster: c}
}

// methods lists the recorded calls as "node method".
func (e *env) methods(method string) []nodesim.Request {
	var out []nodesim.Request
	for _, r := range e.sim.Requests() {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// ready applies every config and bootstraps etcd.
func (e *env) ready(t testing.TB) {
	t.Helper()
	_, err := e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	_, err = e.cluster.Bootstrap(t.Context(), "", false)
	require.NoError(t, err)
}

func requireMode(t testing.TB, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, want, fi.Mode().Perm(), path)
}
