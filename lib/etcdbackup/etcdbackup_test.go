package etcdbackup_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"

	"github.com/wdiazux/infra/lib/etcdbackup"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosnode"
)

// TestSnapshotRoundTrip: a snapshot decrypts with the age key to a valid
// etcd snapshot (etcd's own status code reads it), whose revision, hash,
// size and sha256 are the record's; neither it nor anything else written
// holds plaintext; files are 0600 in a 0700 directory.
func TestSnapshotRoundTrip(t *testing.T) {
	e := newEnv(t)
	b := e.backups()
	path, err := b.Snapshot(t.Context())
	require.NoError(t, err)
	require.Equal(t, filepath.Join(e.dir, "etcd-homelab-20261127T090000Z.snapshot.age"), path)
	recPath := etcdbackup.RecordPath(path)
	require.Equal(t, filepath.Join(e.dir, "etcd-homelab-20261127T090000Z.json"), recPath)

	requireMode(t, e.dir, 0o700)
	requireMode(t, path, 0o600)
	requireMode(t, recPath, 0o600)
	entries, err := os.ReadDir(e.dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "the snapshot and its record, no temporary file left")
	requireNoPlaintext(t, e.dir, e.tmp)

	rec, err := etcdbackup.ReadRecord(recPath)
	require.NoError(t, err)
	require.Equal(t, "talos-cp-01", rec.Node)
	require.Equal(t, "homelab", rec.Cluster)
	require.Equal(t, "v1.12.7", rec.TalosVersion)
	require.Equal(t, []string{e.id.Recipient().String()}, rec.Recipients)

	// Decrypt with the age key: the plaintext is the record's.
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r, err := age.Decrypt(f, e.id)
	require.NoError(t, err)
	plain, err := io.ReadAll(r)
	require.NoError(t, err)
	sum := sha256.Sum256(plain)
	require.Equal(t, hex.EncodeToString(sum[:]), rec.SHA256)
	require.Equal(t, int64(len(plain)), rec.Size)
	db := sha256.Sum256(plain[:len(plain)-sha256.Size])
	require.Equal(t, hex.EncodeToString(db[:]), rec.EtcdSHA256, "etcd's appended sha256 is the database's")
	require.Equal(t, hex.EncodeToString(plain[len(plain)-sha256.Size:]), rec.EtcdSHA256)

	// etcd's own snapshot status code reads it (here, in the test's own
	// directory, the plaintext may touch the disk).
	out := filepath.Join(t.TempDir(), "db.snapshot")
	require.NoError(t, os.WriteFile(out, plain, 0o600))
	st, err := snapshot.NewV3(zap.NewNop()).Status(out)
	require.NoError(t, err)
	require.Equal(t, st.Revision, rec.Revision)
	require.Positive(t, rec.Revision)
	require.GreaterOrEqual(t, st.TotalKey, len(markers))
	require.Equal(t, st.TotalKey, rec.TotalKeys)
	require.Len(t, rec.Hash, 8)
	require.Equal(t, st.Version, rec.StorageVersion)
	for k, v := range markers {
		require.Contains(t, string(plain), k)
		require.Contains(t, string(plain), v)
	}
}

// TestSnapshotRetention: the newest keep snapshots stay, older ones go
// (snapshot and record) once the new one is complete.
func TestSnapshotRetention(t *testing.T) {
	e := newEnv(t)
	var paths []string
	for range 4 {
		p, err := e.backups(etcdbackup.WithKeep(2)).Snapshot(t.Context())
		require.NoError(t, err)
		paths = append(paths, p)
	}
	recs, err := e.backups(etcdbackup.WithKeep(2)).List()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.Equal(t, filepath.Base(paths[3]), recs[0].File, "newest first")
	require.Equal(t, filepath.Base(paths[2]), recs[1].File)
	for _, p := range paths[:2] {
		require.NoFileExists(t, p)
		require.NoFileExists(t, etcdbackup.RecordPath(p))
	}
	entries, err := os.ReadDir(e.dir)
	require.NoError(t, err)
	require.Len(t, entries, 4)
}

// TestSnapshotRefused: placeholders in .sops.yaml, a directory others can
// read, no healthy control plane: nothing is streamed or written.
func TestSnapshotRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
		opts  []etcdbackup.Option
		want  error
		msg   string
	}{
		{name: "placeholder recipient", setup: func(t *testing.T, e *env) {
			writeSopsConfig(t, e.root, secrets.PlaceholderAdmin)
		}, want: secrets.ErrPlaceholder, msg: "placeholder recipient(s) &admin"},
		{name: "directory readable by others", setup: func(t *testing.T, e *env) {
			require.NoError(t, os.MkdirAll(e.dir, 0o755))
			require.NoError(t, os.Chmod(e.dir, 0o755))
		}, want: etcdbackup.ErrDirMode, msg: "mode 0755; make it 0700"},
		{name: "etcd wiped everywhere", setup: func(t *testing.T, e *env) {
			e.wipeControlPlanes(t)
		}, want: etcdbackup.ErrNoHealthyControlPlane, msg: "talos-cp-01: etcd is Preparing (waiting for etcd bootstrap)"},
		{name: "the named node's etcd unhealthy", setup: func(t *testing.T, e *env) {
			e.sim.SetUnhealthy("talos-cp-02", "etcd", "slow disk")
		}, opts: []etcdbackup.Option{etcdbackup.WithNode("talos-cp-02")}, want: etcdbackup.ErrNoHealthyControlPlane, msg: "talos-cp-02: etcd is Running (slow disk)"},
		{name: "a worker named", opts: []etcdbackup.Option{etcdbackup.WithNode("talos-gpu-01")}, want: talosnode.ErrNotControlPlane, msg: "talos-gpu-01 is a worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			_, err := e.backups(tt.opts...).Snapshot(t.Context())
			require.ErrorIs(t, err, tt.want)
			require.ErrorContains(t, err, tt.msg)
			require.Empty(t, e.h.Requests("EtcdSnapshot"))
			entries, _ := os.ReadDir(e.dir)
			require.Empty(t, entries)
		})
	}
}

// TestSnapshotUnhealthyNodeSkipped: the first control plane whose etcd is
// healthy streams the snapshot.
func TestSnapshotUnhealthyNodeSkipped(t *testing.T) {
	e := newEnv(t)
	e.sim.SetUnhealthy("talos-cp-01", "etcd", "slow disk")
	_, err := e.backups().Snapshot(t.Context())
	require.NoError(t, err)
	snaps := e.h.Requests("EtcdSnapshot")
	require.Len(t, snaps, 1)
	require.Equal(t, "talos-cp-02", snaps[0].Node)
}

func requireMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, want, fi.Mode().Perm(), path)
}
