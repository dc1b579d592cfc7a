package nodesim_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// etcdEnv is a configured three-node cluster (cp-01, cp-02, cp-03 and a
// worker) on the simulator, not bootstrapped, with authenticated clients.
type etcdEnv struct {
	sim     *nodesim.Sim
	cluster *talosnode.Cluster
	clients map[string]*client.Client
}

func newEtcdEnv(t *testing.T) *etcdEnv {
	t.Helper()
	h := talostest.New(t, filepath.Join("..", "..", "talosgen", "testdata", "three-nodes.yaml"), talostest.Applied(),
		talostest.WithNodeOptions(nodesim.WithEtcdDir(t.TempDir())))
	cfg, err := clientconfig.FromBytes(h.Talosconfig)
	require.NoError(t, err)
	e := &etcdEnv{sim: h.Sim, cluster: h.Cluster, clients: map[string]*client.Client{}}
	for _, name := range h.Names {
		cl, err := client.New(t.Context(), client.WithConfig(cfg), client.WithEndpoints(h.Sim.Endpoint(name)))
		require.NoError(t, err)
		t.Cleanup(func() { _ = cl.Close() })
		e.clients[name] = cl
	}
	return e
}

// snapshotOf streams a node's etcd snapshot into memory.
func (e *etcdEnv) snapshotOf(ctx context.Context, node string) ([]byte, error) {
	var buf bytes.Buffer
	_, err := e.cluster.EtcdSnapshot(ctx, node, &buf)
	return buf.Bytes(), err
}

// etcdService is the etcd service's state and health message on a node.
func (e *etcdEnv) etcdService(t *testing.T, node string) (string, string) {
	t.Helper()
	st, err := e.cluster.EtcdState(t.Context(), node)
	require.NoError(t, err)
	return st.Service, st.Message
}

// TestEtcdSnapshotIsEtcds: a bootstrapped control plane streams a real etcd
// snapshot (etcd's status code reads it, with the keys written before it);
// a worker refuses with Talos's error, a control plane before bootstrap
// fails.
func TestEtcdSnapshotIsEtcds(t *testing.T) {
	e := newEtcdEnv(t)
	_, err := e.snapshotOf(t.Context(), "talos-cp-01")
	require.ErrorContains(t, err, "failed reading etcd snapshot: etcd is not running")

	_, err = e.cluster.Bootstrap(t.Context(), "", false)
	require.NoError(t, err)
	require.NoError(t, e.sim.EtcdPut(t.Context(), "/registry/a", "value-a"))

	stream, err := e.clients["talos-gpu-01"].MachineClient.EtcdSnapshot(t.Context(), &machineapi.EtcdSnapshotRequest{})
	require.NoError(t, err)
	_, err = stream.Recv()
	require.Equal(t, codes.Unimplemented, status.Code(err), err)
	require.ErrorContains(t, err, "etcd snapshot is only available on control plane nodes")

	data, err := e.snapshotOf(t.Context(), "talos-cp-02")
	require.NoError(t, err)
	require.Equal(t, 32, len(data)%512, "the database and etcd's sha256")
	path := filepath.Join(t.TempDir(), "db")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	st, err := snapshot.NewV3(zap.NewNop()).Status(path)
	require.NoError(t, err)
	require.Positive(t, st.Revision)
	require.Contains(t, string(data), "value-a")
}

// TestEtcdRecovery: the documented disaster recovery on the simulator:
// wipe every control plane's EPHEMERAL with Reset (etcd waits for a
// bootstrap), upload the snapshot, bootstrap with RecoverEtcd, and the keys
// written before the snapshot are back.
func TestEtcdRecovery(t *testing.T) {
	e := newEtcdEnv(t)
	_, err := e.cluster.Bootstrap(t.Context(), "", false)
	require.NoError(t, err)
	require.NoError(t, e.sim.EtcdPut(t.Context(), "/registry/kept", "before"))
	data, err := e.snapshotOf(t.Context(), "talos-cp-01")
	require.NoError(t, err)
	require.NoError(t, e.sim.EtcdPut(t.Context(), "/registry/lost", "after"))

	// A bootstrap from a snapshot while etcd runs: its data is not empty.
	_, err = e.cluster.EtcdRecover(t.Context(), "talos-cp-01", bytes.NewReader(data))
	require.NoError(t, err, "Talos takes the upload on any control plane")
	err = e.cluster.BootstrapRecover(t.Context(), "talos-cp-01", false)
	require.ErrorIs(t, err, talosnode.ErrAlreadyBootstrapped)

	// Reset: an unknown partition label is refused as Talos does.
	_, err = e.clients["talos-cp-01"].ResetGenericWithResponse(t.Context(), &machineapi.ResetRequest{Reboot: true,
		SystemPartitionsToWipe: []*machineapi.ResetPartitionSpec{{Label: "DATA", Wipe: true}}})
	require.ErrorContains(t, err, `failed to get volume status with label "DATA"`)
	for _, cp := range []string{"talos-cp-01", "talos-cp-02", "talos-cp-03"} {
		_, err := e.clients[cp].ResetGenericWithResponse(t.Context(), &machineapi.ResetRequest{Reboot: true, Graceful: false,
			SystemPartitionsToWipe: []*machineapi.ResetPartitionSpec{{Label: "EPHEMERAL", Wipe: true}}})
		require.NoError(t, err)
	}
	for _, cp := range []string{"talos-cp-01", "talos-cp-02", "talos-cp-03"} {
		state, msg := e.etcdService(t, cp)
		require.Equal(t, "Preparing", state, cp)
		require.Equal(t, "waiting for etcd bootstrap", msg)
		_, err := e.clients[cp].EtcdMemberList(t.Context(), &machineapi.EtcdMemberListRequest{})
		require.Equal(t, codes.Unavailable, status.Code(err))
	}

	// The upload: a worker refuses it; a bootstrap with nothing uploaded
	// fails etcd, not the call.
	cli, err := e.clients["talos-gpu-01"].MachineClient.EtcdRecover(t.Context())
	require.NoError(t, err)
	// The worker may refuse before the chunk is sent; gRPC's Send then
	// says io.EOF and the refusal comes from CloseAndRecv.
	if err := cli.Send(&common.Data{Bytes: data[:10]}); err != nil {
		require.ErrorIs(t, err, io.EOF)
	}
	_, err = cli.CloseAndRecv()
	require.Equal(t, codes.Unimplemented, status.Code(err))
	require.ErrorContains(t, err, "etcd recover is only available on control plane nodes")
	require.NoError(t, e.cluster.BootstrapRecover(t.Context(), "talos-cp-02", false))
	state, msg := e.etcdService(t, "talos-cp-02")
	require.Equal(t, "Failed", state)
	require.Contains(t, msg, "error verifying snapshot")

	// A truncated snapshot fails etcd's hash check.
	_, err = e.cluster.EtcdRecover(t.Context(), "talos-cp-02", bytes.NewReader(data[:len(data)-1]))
	require.NoError(t, err)
	require.NoError(t, e.cluster.BootstrapRecover(t.Context(), "talos-cp-02", false))
	state, msg = e.etcdService(t, "talos-cp-02")
	require.Equal(t, "Failed", state)
	require.Contains(t, msg, "error recovering from the snapshot")

	// The real one.
	n, err := e.cluster.EtcdRecover(t.Context(), "talos-cp-02", bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.NoError(t, e.cluster.BootstrapRecover(t.Context(), "talos-cp-02", false))
	for _, cp := range []string{"talos-cp-01", "talos-cp-02", "talos-cp-03"} {
		state, _ := e.etcdService(t, cp)
		require.Equal(t, "Running", state, cp)
	}
	got, ok, err := e.sim.EtcdGet(t.Context(), "/registry/kept")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "before", got)
	_, ok, err = e.sim.EtcdGet(t.Context(), "/registry/lost")
	require.NoError(t, err)
	require.False(t, ok)
}
