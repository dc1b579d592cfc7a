package etcdbackup_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/etcdbackup"
	"github.com/wdiazux/infra/lib/talosnode"
)

// TestRestoreRecovers: after every control plane's etcd was wiped, a
// confirmed restore uploads the snapshot to one control plane, bootstraps
// it from the snapshot, and the cluster is healthy with the keys written
// before the snapshot, and without those written after.
func TestRestoreRecovers(t *testing.T) {
	e := newEnv(t)
	path, err := e.backups().Snapshot(t.Context())
	require.NoError(t, err)
	require.NoError(t, e.sim.EtcdPut(t.Context(), "/registry/after-the-snapshot", "lost"))
	e.wipeControlPlanes(t)

	res, err := e.backups().Restore(t.Context(), etcdbackup.RestoreOptions{File: path, Node: "talos-cp-02", Confirm: "homelab", Wait: time.Minute, Interval: 100 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, "talos-cp-02", res.Node)
	require.True(t, res.Health.Healthy())

	recovers := e.h.Requests("EtcdRecover")
	require.Len(t, recovers, 1)
	require.Equal(t, "talos-cp-02", recovers[0].Node)
	boots := e.h.Requests("Bootstrap")
	require.Equal(t, "talos-cp-02", boots[len(boots)-1].Node)
	for k, v := range markers {
		got, ok, err := e.sim.EtcdGet(t.Context(), k)
		require.NoError(t, err)
		require.True(t, ok, k)
		require.Equal(t, v, got)
	}
	_, ok, err := e.sim.EtcdGet(t.Context(), "/registry/after-the-snapshot")
	require.NoError(t, err)
	require.False(t, ok, "a key written after the snapshot is not in the restored etcd")
	requireNoPlaintext(t, e.dir, e.tmp)
}

// TestRestoreRefused: without its confirmation, with a file that does not
// match its record or does not decrypt, with a node not in the state
// recovery needs, nothing is sent to any node.
func TestRestoreRefused(t *testing.T) {
	tests := []struct {
		name   string
		wipe   bool
		setup  func(t *testing.T, e *env, path string)
		opts   func(o *etcdbackup.RestoreOptions)
		backup []etcdbackup.Option
		want   error
		msg    string
	}{
		{name: "no confirmation", wipe: true, opts: func(o *etcdbackup.RestoreOptions) { o.Confirm = "" },
			want: etcdbackup.ErrNotConfirmed, msg: `confirm with the cluster's name (got "")`},
		{name: "another cluster's name", wipe: true, opts: func(o *etcdbackup.RestoreOptions) { o.Confirm = "lab" },
			want: etcdbackup.ErrNotConfirmed, msg: `replaces the whole state of cluster "homelab"`},
		{name: "etcd still runs (no reset)", want: etcdbackup.ErrNotRecoverable,
			msg: "etcd still runs on talos-cp-01 (service Running, 3 member(s)), talos-cp-02 (service Running, 3 member(s)), talos-cp-03 (service Running, 3 member(s))"},
		{name: "one control plane still runs etcd", setup: func(t *testing.T, e *env, _ string) {
			require.NoError(t, e.sim.WipeEphemeral("talos-cp-01"))
			require.NoError(t, e.sim.WipeEphemeral("talos-cp-02"))
		}, want: etcdbackup.ErrNotRecoverable, msg: "etcd still runs on talos-cp-03 (service Running, 3 member(s))"},
		{name: "a control plane does not answer", wipe: true, setup: func(t *testing.T, e *env, _ string) {
			e.sim.SetDown("talos-cp-03", true)
		}, want: etcdbackup.ErrNotRecoverable, msg: "talos-cp-03"},
		{name: "the target is a worker", wipe: true, opts: func(o *etcdbackup.RestoreOptions) { o.Node = "talos-gpu-01" },
			want: talosnode.ErrNotControlPlane, msg: "talos-gpu-01 is a worker"},
		{name: "the target is unknown", wipe: true, opts: func(o *etcdbackup.RestoreOptions) { o.Node = "talos-cp-09" },
			want: talosnode.ErrUnknownNode, msg: `"talos-cp-09"`},
		{name: "the record does not match", wipe: true, setup: func(t *testing.T, e *env, path string) {
			rec, err := etcdbackup.ReadRecord(etcdbackup.RecordPath(path))
			require.NoError(t, err)
			rec.SHA256 = "00" + rec.SHA256[2:]
			data, err := json.Marshal(rec)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(etcdbackup.RecordPath(path), data, 0o600))
		}, want: etcdbackup.ErrIntegrity, msg: "does not match its record"},
		{name: "the record of another cluster", wipe: true, setup: func(t *testing.T, e *env, path string) {
			rec, err := etcdbackup.ReadRecord(etcdbackup.RecordPath(path))
			require.NoError(t, err)
			rec.Cluster = "lab"
			data, err := json.Marshal(rec)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(etcdbackup.RecordPath(path), data, 0o600))
		}, want: etcdbackup.ErrIntegrity, msg: `a snapshot of cluster "lab"`},
		{name: "no record", wipe: true, setup: func(t *testing.T, e *env, path string) {
			require.NoError(t, os.Remove(etcdbackup.RecordPath(path)))
		}, want: os.ErrNotExist, msg: "the record of"},
		{name: "a key that does not open it", wipe: true, backup: func() []etcdbackup.Option {
			other, _ := age.GenerateX25519Identity()
			return []etcdbackup.Option{etcdbackup.WithIdentities(other)}
		}(), msg: "no age key you hold opens it"},
		{name: "a damaged file", wipe: true, setup: func(t *testing.T, e *env, path string) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			data[len(data)-100] ^= 0xff
			require.NoError(t, os.WriteFile(path, data, 0o600))
		}, msg: "decrypt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			path, err := e.backups().Snapshot(t.Context())
			require.NoError(t, err)
			if tt.wipe {
				e.wipeControlPlanes(t)
			}
			if tt.setup != nil {
				tt.setup(t, e, path)
			}
			o := etcdbackup.RestoreOptions{File: path, Confirm: "homelab", Wait: time.Second}
			if tt.opts != nil {
				tt.opts(&o)
			}
			boots := len(e.h.Requests("Bootstrap"))
			b := e.backups()
			if tt.backup != nil {
				b = etcdbackup.New(e.inv, e.cluster, e.root, tt.backup...)
			}
			_, err = b.Restore(t.Context(), o)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			}
			require.ErrorContains(t, err, tt.msg)
			require.Empty(t, e.h.Requests("EtcdRecover"), "nothing was sent")
			require.Len(t, e.h.Requests("Bootstrap"), boots, "no bootstrap")
		})
	}
}
