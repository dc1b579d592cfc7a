package talosnode_test

import (
	"os"
	"path/filepath"
	"testing"

	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

var (
	homelabFile    = filepath.Join("..", "..", "homelab.yaml")
	threeNodesFile = filepath.Join("..", "talosgen", "testdata", "three-nodes.yaml")
)

// env is a generated cluster, its simulated nodes, and a Cluster pointed
// at them.
type env struct {
	h       *talostest.Env
	inv     *inventory.Inventory
	bundle  *tsecrets.Bundle
	dir     string
	sim     *nodesim.Sim
	cluster *talosnode.Cluster
}

// newEnv generates the configs and talosconfig of an inventory into a
// temporary directory, as talos:genconfig does, and starts its nodes in
// maintenance mode (internal/talostest).
func newEnv(t testing.TB, invFile string, opts ...nodesim.Option) *env {
	t.Helper()
	h := talostest.New(t, invFile, talostest.WithNodeOptions(opts...))
	return &env{h: h, inv: h.Inv, bundle: h.Bundle, dir: h.Dir, sim: h.Sim, cluster: h.Cluster}
}

// ready applies every config and bootstraps etcd.
func (e *env) ready(t testing.TB) {
	t.Helper()
	e.h.Apply(t)
	e.h.Bootstrap(t)
}

func requireMode(t testing.TB, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, want, fi.Mode().Perm(), path)
}
