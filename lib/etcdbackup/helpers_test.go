package etcdbackup_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/lib/etcdbackup"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

var threeNodesFile = filepath.Join("..", "talosgen", "testdata", "three-nodes.yaml")

// markers are keys and values written to etcd before a snapshot: none may
// ever be readable in a file the backup writes.
var markers = map[string]string{
	"/registry/secrets/default/db-password": "hunter2-plaintext-marker",
	"/registry/configmaps/default/homelab":  "configmap-plaintext-marker",
}

// env is a bootstrapped simulated cluster (three control planes and a
// worker), an age key, a .sops.yaml whose snapshot rule encrypts to it,
// and Backups writing into a fresh directory.
type env struct {
	h       *talostest.Env
	inv     *inventory.Inventory
	sim     *nodesim.Sim
	cluster *talosnode.Cluster
	id      *age.X25519Identity
	root    string
	dir     string
	tmp     string
	clock   time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	h := talostest.New(t, threeNodesFile, talostest.Bootstrapped(), talostest.WithNodeOptions(nodesim.WithEtcdDir(t.TempDir())))
	for k, v := range markers {
		require.NoError(t, h.Sim.EtcdPut(t.Context(), k, v))
	}

	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	root := t.TempDir()
	writeSopsConfig(t, root, id.Recipient().String())
	// Every temporary file the backup could make lands here, so the test
	// can prove none holds plaintext.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return &env{h: h, inv: h.Inv, sim: h.Sim, cluster: h.Cluster, id: id, root: root, dir: filepath.Join(root, etcdbackup.DefaultDir), tmp: tmp,
		clock: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
}

// writeSopsConfig writes a .sops.yaml whose snapshot rule encrypts to
// recipient.
func writeSopsConfig(t *testing.T, root, recipient string) {
	t.Helper()
	conf := "keys:\n  - &admin " + recipient + "\ncreation_rules:\n  - path_regex: (^|/)backups/etcd/[^/]+\\.snapshot\\.age$\n    key_groups:\n      - age:\n          - *admin\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, ".sops.yaml"), []byte(conf), 0o600))
}

// backups returns Backups on the env, each call one second later.
func (e *env) backups(opts ...etcdbackup.Option) *etcdbackup.Backups {
	now := e.clock
	e.clock = e.clock.Add(time.Second)
	base := []etcdbackup.Option{etcdbackup.WithIdentities(e.id), etcdbackup.WithClock(func() time.Time { return now })}
	return etcdbackup.New(e.inv, e.cluster, e.root, append(base, opts...)...)
}

// wipeControlPlanes wipes every control plane's EPHEMERAL partition, as
// talosctl reset --system-labels-to-wipe=EPHEMERAL does.
func (e *env) wipeControlPlanes(t *testing.T) {
	t.Helper()
	for _, cp := range e.inv.Talos.ControlPlanes() {
		require.NoError(t, e.sim.WipeEphemeral(cp.Name))
	}
}

// requireNoPlaintext fails when any file under the directories holds one
// of the markers.
func requireNoPlaintext(t *testing.T, dirs ...string) {
	t.Helper()
	files := 0
	for _, dir := range dirs {
		require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			files++
			for k, v := range markers {
				require.False(t, bytes.Contains(data, []byte(v)), "%s holds the plaintext value of %s", path, k)
				require.False(t, bytes.Contains(data, []byte(k)), "%s holds the plaintext key %s", path, k)
				require.False(t, bytes.Contains(data, []byte(strings.TrimPrefix(k, "/registry/"))), "%s holds part of the key %s", path, k)
			}
			return nil
		}))
	}
	require.Positive(t, files, "the directories hold the snapshot and its record")
}
