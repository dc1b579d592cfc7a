package talosgen_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
)

// BenchmarkBuildConfigs measures building and strictly validating the
// homelab's configs from a bundle in memory.
func BenchmarkBuildConfigs(b *testing.B) {
	inv := loadInventory(b, homelabFile)
	bundle := fixtureBundle(b)
	patches := loadPatches(b, inv)
	for b.Loop() {
		_, err := talosgen.BuildConfigs(talosgen.Sources{Inventory: inv, Bundle: bundle, Patches: patches})
		require.NoError(b, err)
	}
}

// BenchmarkSyncConfigsNoChange measures what talos:genconfig does on a re-run
// for the homelab: read the patches, decrypt the bundle, generate,
// validate, compare with the disk, keep the talosconfig.
func BenchmarkSyncConfigsNoChange(b *testing.B) {
	r := newBenchRepo(b)
	inv := loadInventory(b, homelabFile)
	o := talosgen.SyncOptions{Root: r.root, Secrets: []secrets.Option{secrets.WithIdentities(r.id)}}
	_, err := talosgen.SyncConfigs(b.Context(), inv, o)
	require.NoError(b, err)
	for b.Loop() {
		res, err := talosgen.SyncConfigs(b.Context(), inv, o)
		require.NoError(b, err)
		require.False(b, res.Changed())
	}
}
