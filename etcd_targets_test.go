package infra_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// TestEtcdTargets takes an encrypted snapshot of the homelab's simulated
// node through go run mage.go and restores it: refused without the
// confirmation and while etcd runs, then done once etcd was wiped.
func TestEtcdTargets(t *testing.T) {
	dir, id, inventoryFlag, env := talosHome(t)
	out, code := mageEnv(t, env, "talos:genconfig", inventoryFlag)
	require.Equal(t, 0, code, out)
	bundle, err := talosgen.LoadBundle(filepath.Join(dir, talosgen.DefaultBundleFile), secrets.WithIdentities(id))
	require.NoError(t, err)
	sim, err := nodesim.New(bundle, []string{"talos-cp-01"}, nodesim.WithEtcdDir(t.TempDir()))
	require.NoError(t, err)
	defer sim.Close()
	env = append(env, talosnode.EnvEndpoints+"=talos-cp-01="+sim.Endpoint("talos-cp-01"))
	out, code = mageEnv(t, env, "talos:apply", inventoryFlag)
	require.Equal(t, 0, code, out)
	out, code = mageEnv(t, env, "talos:bootstrap", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.NoError(t, sim.EtcdPut(t.Context(), "/registry/secrets/default/x", "target-marker"))

	out, code = mageEnv(t, env, "talos:etcd-snapshot", "-keep=2", inventoryFlag)
	require.Equal(t, 0, code, out)
	snap := regexp.MustCompile(`(?m)^(\S+\.snapshot\.age)$`).FindStringSubmatch(out)
	require.NotNil(t, snap, out)
	require.Equal(t, filepath.Join(dir, "backups", "etcd"), filepath.Dir(snap[1]))
	require.Contains(t, out, "encrypted to ["+id.Recipient().String()+"]")
	data, err := os.ReadFile(snap[1])
	require.NoError(t, err)
	require.NotContains(t, string(data), "target-marker")
	fi, err := os.Stat(snap[1])
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	out, code = mageEnv(t, env, "talos:etcd-restore", snap[1], inventoryFlag)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "restore not confirmed")
	require.Contains(t, out, "run: go run mage.go talos:etcd-restore "+snap[1]+" -confirm=<talos.cluster_name>")
	out, code = mageEnv(t, env, "talos:etcd-restore", snap[1], "-confirm=homelab", inventoryFlag)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "etcd still runs on talos-cp-01")

	require.NoError(t, sim.WipeEphemeral("talos-cp-01"))
	out, code = mageEnv(t, env, "talos:etcd-restore", snap[1], "-confirm=homelab", "-wait=1m", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "etcd recovered on talos-cp-01")
	got, ok, err := sim.EtcdGet(t.Context(), "/registry/secrets/default/x")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "target-marker", got)
}
