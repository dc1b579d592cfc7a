package talostest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// Env is a generated cluster, its simulated nodes, and a Cluster pointed
// at them.
type Env struct {
	// Inv is the inventory loaded from the file New was given.
	Inv *inventory.Inventory
	// Bundle is the cluster's secrets bundle, made for the test.
	Bundle *tsecrets.Bundle
	// Dir holds the generated configs, <node>.yaml each, and the
	// talosconfig (talosgen.TalosconfigFile), as talos:genconfig writes
	// them; Cluster reads them from there.
	Dir string
	// Talosconfig is the talosconfig's content (New; nil after Start).
	Talosconfig []byte
	// Names are the nodes' names, in the inventory's order.
	Names []string
	// Sim is the simulated Talos nodes, one per inventory node, in
	// maintenance mode unless Applied or Bootstrapped.
	Sim *nodesim.Sim
	// Cluster is the Cluster of Inv and Dir whose endpoints are Sim's.
	Cluster *talosnode.Cluster
}

// Option configures New.
type Option func(*options)

type options struct {
	nodes    []nodesim.Option
	patchDir string
	applied  bool
	boot     bool
}

// WithNodeOptions are options of the simulated nodes (nodesim.WithVersion,
// nodesim.WithEtcdDir, …).
func WithNodeOptions(opts ...nodesim.Option) Option {
	return func(o *options) { o.nodes = append(o.nodes, opts...) }
}

// WithPatchDir reads the config patches from dir instead of the
// repository's talos/patches.
func WithPatchDir(dir string) Option { return func(o *options) { o.patchDir = dir } }

// Applied applies every node's config before New returns.
func Applied() Option { return func(o *options) { o.applied = true } }

// Bootstrapped applies every node's config and bootstraps etcd before New
// returns, as cluster:up leaves a cluster.
func Bootstrapped() Option { return func(o *options) { o.applied, o.boot = true, true } }

// New generates the configs and talosconfig of the inventory file invFile
// into a temporary folder, as talos:genconfig does (a fresh bundle, the
// repository's talos/patches unless WithPatchDir), starts one simulated
// node per inventory node, in maintenance mode, and points a Cluster at
// them (Start). The nodes stop when the test ends.
func New(t testing.TB, invFile string, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.patchDir == "" {
		root, err := RepositoryRoot(".")
		require.NoError(t, err)
		o.patchDir = filepath.Join(root, talosgen.DefaultPatchDir)
	}
	inv, err := inventory.Load(invFile)
	require.NoError(t, err)
	bundle, err := talosgen.NewBundle(inv)
	require.NoError(t, err)
	patches, err := talosgen.LoadPatches(o.patchDir, inv)
	require.NoError(t, err)
	built, err := talosgen.BuildConfigs(talosgen.Sources{Inventory: inv, Bundle: bundle, Patches: patches})
	require.NoError(t, err)
	dir := t.TempDir()
	for _, n := range built.Nodes {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n.Node.Name+".yaml"), n.Config, 0o600))
	}
	tc, err := talosgen.Talosconfig(inv, bundle)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, talosgen.TalosconfigFile), tc, 0o600))
	e := Start(t, inv, bundle, dir, opts...)
	e.Talosconfig = tc
	return e
}

// Start starts one simulated node per node of inv, with bundle's CAs, in
// maintenance mode, and points a Cluster at them that reads the configs
// and the talosconfig in dir (generated already, e.g. by
// talosgen.SyncConfigs); Applied and Bootstrapped apply and bootstrap
// them, WithNodeOptions configures the nodes, WithPatchDir is unused.
// The nodes stop when the test ends.
func Start(t testing.TB, inv *inventory.Inventory, bundle *tsecrets.Bundle, dir string, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	e := &Env{Inv: inv, Bundle: bundle, Dir: dir}
	for _, n := range inv.Talos.Nodes {
		e.Names = append(e.Names, n.Name)
	}
	var err error
	e.Sim, err = nodesim.New(bundle, e.Names, o.nodes...)
	require.NoError(t, err)
	t.Cleanup(e.Sim.Close)
	e.Cluster = talosnode.New(inv, dir, talosnode.WithEndpoints(e.Endpoint))
	if o.applied {
		e.Apply(t)
	}
	if o.boot {
		e.Bootstrap(t)
	}
	return e
}

// Endpoint is the simulated node's address of an inventory node, for
// talosnode.WithEndpoints.
func (e *Env) Endpoint(n inventory.TalosNode) string { return e.Sim.Endpoint(n.Name) }

// Requests are the requests of a gRPC method (e.g. "Bootstrap") the
// nodes received, in order.
func (e *Env) Requests(method string) []nodesim.Request {
	var out []nodesim.Request
	for _, r := range e.Sim.Requests() {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Apply applies every node's config through Cluster.
func (e *Env) Apply(t testing.TB) {
	t.Helper()
	_, err := e.Cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
}

// Bootstrap bootstraps etcd through Cluster; the configs must be applied
// (Apply) first.
func (e *Env) Bootstrap(t testing.TB) {
	t.Helper()
	_, err := e.Cluster.Bootstrap(t.Context(), "", false)
	require.NoError(t, err)
}

// module is the module whose root holds talos/patches.
const module = "github.com/wdiazux/infra"

// RepositoryRoot returns the repository's root: the folder of the go.mod
// of module github.com/wdiazux/infra, looked for from dir upwards (tests
// run in their package's folder).
func RepositoryRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find the repository's root from %s: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		gomod, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(gomod), "module "+module+"\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find the repository's root: no go.mod of module %s in %s or above; pass the patches with WithPatchDir", module, abs)
		}
	}
}
