package talosgen_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
)

// update regenerates the golden files and the fixture bundle:
// go test ./lib/talosgen -update
var update = flag.Bool("update", false, "regenerate the golden files (and the fixture bundle when missing)")

// The inventories the tests build: the real homelab, and it grown to three
// control planes with a GPU worker and disk encryption.
var (
	homelabFile    = filepath.Join("..", "..", "homelab.yaml")
	threeNodesFile = filepath.Join("testdata", "three-nodes.yaml")
	patchDir       = filepath.Join("..", "..", "talos", "patches")
	bundleFixture  = filepath.Join("testdata", "bundle.yaml")
)

func loadInventory(t testing.TB, path string) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(path)
	require.NoError(t, err)
	return inv
}

// fixtureBundle is a fixed secrets bundle, so configs can be compared with
// golden files. Its keys are fake and serve nothing but these tests.
func fixtureBundle(t testing.TB) *tsecrets.Bundle {
	t.Helper()
	data, err := os.ReadFile(bundleFixture)
	if os.IsNotExist(err) && *update {
		b, err := talosgen.NewBundle(loadInventory(t, homelabFile))
		require.NoError(t, err)
		data, err = talosgen.MarshalBundle(b)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(bundleFixture, data, 0o644))
	} else {
		require.NoError(t, err, "the fixture bundle is made with -update")
	}
	b, err := talosgen.UnmarshalBundle(data)
	require.NoError(t, err)
	return b
}

func loadPatches(t testing.TB, inv *inventory.Inventory) *talosgen.Patches {
	t.Helper()
	p, err := talosgen.LoadPatches(patchDir, inv)
	require.NoError(t, err)
	return p
}

func generate(t testing.TB, invFile string) (*inventory.Inventory, *talosgen.Configs) {
	t.Helper()
	inv := loadInventory(t, invFile)
	res, err := talosgen.BuildConfigs(talosgen.Sources{Inventory: inv, Bundle: fixtureBundle(t), Patches: loadPatches(t, inv)})
	require.NoError(t, err)
	return inv, res
}
