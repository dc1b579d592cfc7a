package nodesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// snapshotChunk is the size of the messages EtcdSnapshot streams, as
// Talos's stream chunker sends them.
const snapshotChunk = 1024

// clusterEtcd is the real etcd (go.etcd.io/etcd/server/v3/embed, on
// loopback, data in a temporary directory) behind the simulated cluster's
// etcd. It starts on first use after bootstrap (a snapshot, EtcdPut), from
// the data directory bootstrap left: empty, or restored from a snapshot.
type clusterEtcd struct {
	// mu guards the fields below and is taken before Sim.mu, never after.
	mu sync.Mutex
	// root holds data/ (etcd's data directory) and nodes/<name>/ (each
	// node's /var/lib, where EtcdRecover writes the uploaded snapshot).
	root string
	// ownRoot says root is a temporary directory Close removes.
	ownRoot bool
	// member is the etcd member's name, peer and client its URLs (set when
	// the data directory is made: restore writes the peer URL into it).
	member       string
	peer, client url.URL
	srv          *embed.Etcd
}

// etcdNodeState is the per-node etcd state, guarded by Sim.mu.
type etcdNodeState struct {
	// wiped lists control planes whose EPHEMERAL partition was wiped
	// while the cluster's etcd still ran elsewhere: their etcd waits to
	// join.
	wiped map[string]bool
	// failed holds, per node, why its etcd service failed (a recovery
	// whose snapshot did not restore).
	failed map[string]string
}

// WithEtcdDir keeps the simulated cluster's etcd data and the snapshots
// uploaded for recovery under dir (default: a temporary directory Close
// removes), so a test can tell the nodes' disks from its own files.
func WithEtcdDir(dir string) Option { return func(s *Sim) { s.etcd.root = dir } }

// dataDir is etcd's data directory, as /var/lib/etcd on a control plane.
func (e *clusterEtcd) dataDir() string { return filepath.Join(e.root, "data") }

// recoveryPath is where a node keeps the snapshot uploaded for recovery,
// as /var/lib/etcd.snapshot.
func (e *clusterEtcd) recoveryPath(node string) string {
	return filepath.Join(e.root, "nodes", node, "etcd.snapshot")
}

// ensureRoot makes the root directory once.
func (e *clusterEtcd) ensureRoot() error {
	if e.root != "" {
		return os.MkdirAll(e.root, 0o700)
	}
	dir, err := os.MkdirTemp("", "nodesim-etcd-")
	if err != nil {
		return err
	}
	e.root, e.ownRoot = dir, true
	return nil
}

// stop stops the server, if it runs.
func (e *clusterEtcd) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
}

// wipe stops the server and removes its data: the cluster's etcd is gone.
func (e *clusterEtcd) wipe() error {
	e.stop()
	e.member = ""
	if e.root == "" {
		return nil
	}
	return os.RemoveAll(e.dataDir())
}

// close stops the server and removes a temporary root.
func (e *clusterEtcd) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stop()
	if e.ownRoot {
		_ = os.RemoveAll(e.root)
	}
}

// freeURL is a loopback URL on a port free now.
func freeURL() (url.URL, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, err
	}
	defer lis.Close() //nolint:errcheck
	return url.URL{Scheme: "http", Host: lis.Addr().String()}, nil
}

// assignURLs names the member and picks its URLs.
func (e *clusterEtcd) assignURLs(member string) error {
	peer, err := freeURL()
	if err != nil {
		return err
	}
	client, err := freeURL()
	if err != nil {
		return err
	}
	e.member, e.peer, e.client = member, peer, client
	return nil
}

// start runs the server from the data directory (e.mu held).
func (e *clusterEtcd) start() error {
	if e.srv != nil {
		return nil
	}
	if err := e.ensureRoot(); err != nil {
		return err
	}
	if e.member == "" {
		if err := e.assignURLs("etcd"); err != nil {
			return err
		}
	}
	cfg := embed.NewConfig()
	cfg.Name = e.member
	cfg.Dir = e.dataDir()
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{e.peer}, []url.URL{e.peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{e.client}, []url.URL{e.client}
	cfg.InitialCluster = e.member + "=" + e.peer.String()
	cfg.ClusterState = embed.ClusterStateFlagNew
	cfg.UnsafeNoFsync = true
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	srv, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-srv.Server.ReadyNotify():
	case err := <-srv.Err():
		srv.Close()
		return fmt.Errorf("etcd in %s: %w", cfg.Dir, err)
	case <-time.After(time.Minute):
		srv.Close()
		return fmt.Errorf("etcd in %s did not become ready in a minute", cfg.Dir)
	}
	e.srv = srv
	return nil
}

// errEtcdNotRunning is what a control plane whose etcd does not run
// answers to calls that need it.
var errEtcdNotRunning = errors.New("etcd is not running")

// etcdClient starts the cluster's etcd if need be and returns a client of
// it; it fails when etcd is not bootstrapped (or was wiped) on node ("" for
// any control plane).
func (s *Sim) etcdClient(node string) (*clientv3.Client, error) {
	s.etcd.mu.Lock()
	defer s.etcd.mu.Unlock()
	s.mu.Lock()
	running := s.bootstrapped && (node == "" || s.etcdRunningOn(node))
	s.mu.Unlock()
	if !running {
		return nil, errEtcdNotRunning
	}
	if err := s.etcd.start(); err != nil {
		return nil, err
	}
	return clientv3.New(clientv3.Config{Endpoints: []string{s.etcd.client.String()}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
}

// EtcdPut writes a key into the simulated cluster's etcd (started on first
// use), as the Kubernetes API server would.
func (s *Sim) EtcdPut(ctx context.Context, key, value string) error {
	cl, err := s.etcdClient("")
	if err != nil {
		return err
	}
	defer cl.Close() //nolint:errcheck
	_, err = cl.Put(ctx, key, value)
	return err
}

// EtcdGet reads a key of the simulated cluster's etcd; ok says it exists.
func (s *Sim) EtcdGet(ctx context.Context, key string) (value string, ok bool, err error) {
	cl, err := s.etcdClient("")
	if err != nil {
		return "", false, err
	}
	defer cl.Close() //nolint:errcheck
	resp, err := cl.Get(ctx, key)
	if err != nil || len(resp.Kvs) == 0 {
		return "", false, err
	}
	return string(resp.Kvs[0].Value), true, nil
}

// etcdRunningOn says a bootstrapped cluster's etcd runs on a control plane:
// its data was not wiped and its etcd did not fail. Sim.mu held.
func (s *Sim) etcdRunningOn(node string) bool {
	return !s.etcdNodes.wiped[node] && s.etcdNodes.failed[node] == ""
}

// etcdDown says the etcd service does not run on a control plane. Sim.mu
// held.
func (s *Sim) etcdDown(node string) bool {
	return !s.bootstrapped || !s.etcdRunningOn(node)
}

// etcdDownState is the etcd service's state on a control plane where it
// does not run: failed, or waiting for a bootstrap. Sim.mu held.
func (s *Sim) etcdDownState(node string) (string, *machineapi.ServiceHealth) {
	if msg := s.etcdNodes.failed[node]; msg != "" {
		return "Failed", &machineapi.ServiceHealth{Healthy: false, LastMessage: msg}
	}
	return "Preparing", &machineapi.ServiceHealth{Unknown: true, LastMessage: "waiting for etcd bootstrap"}
}

// checkControlPlane is Talos's check of the etcd calls on a worker.
func (n *Node) checkControlPlane(api string) error {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	if n.role != "controlplane" {
		return status.Errorf(codes.Unimplemented, "%s is only available on control plane nodes", api)
	}
	return nil
}

// EtcdSnapshot streams a snapshot of the cluster's etcd as etcd's
// maintenance API makes it (the bbolt database followed by its sha256),
// in chunks, as Talos does.
func (m *machineServer) EtcdSnapshot(_ *machineapi.EtcdSnapshotRequest, srv grpc.ServerStreamingServer[common.Data]) error {
	if err := m.configuredOnly(srv.Context(), "EtcdSnapshot"); err != nil {
		return err
	}
	if err := m.node.checkControlPlane("etcd snapshot"); err != nil {
		return err
	}
	cl, err := m.node.sim.etcdClient(m.node.name)
	if err != nil {
		return fmt.Errorf("failed reading etcd snapshot: %w", err)
	}
	defer cl.Close() //nolint:errcheck
	rd, err := cl.Snapshot(srv.Context())
	if err != nil {
		return fmt.Errorf("failed reading etcd snapshot: %w", err)
	}
	defer rd.Close() //nolint:errcheck
	buf := make([]byte, snapshotChunk)
	for {
		k, err := rd.Read(buf)
		if k > 0 {
			if err := srv.Send(&common.Data{Bytes: buf[:k:k]}); err != nil {
				return err
			}
			buf = make([]byte, snapshotChunk)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// EtcdRecover takes the upload of a snapshot for recovery into the node's
// /var/lib/etcd.snapshot. As Talos, it checks only that the node is a
// control plane: that etcd does not run is Bootstrap's check.
func (m *machineServer) EtcdRecover(srv grpc.ClientStreamingServer[common.Data, machineapi.EtcdRecoverResponse]) error {
	if err := m.configuredOnly(srv.Context(), "EtcdRecover"); err != nil {
		return err
	}
	if err := m.node.checkControlPlane("etcd recover"); err != nil {
		return err
	}
	s := m.node.sim
	s.etcd.mu.Lock()
	err := s.etcd.ensureRoot()
	path := s.etcd.recoveryPath(m.node.name)
	s.etcd.mu.Unlock()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700)
	if err != nil {
		return fmt.Errorf("error creating etcd recovery snapshot: %w", err)
	}
	ok := false
	defer func() {
		_ = f.Close()
		if !ok {
			_ = os.Remove(path)
		}
	}()
	for {
		msg, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if _, err := f.Write(msg.GetBytes()); err != nil {
			return fmt.Errorf("error writing snapshot: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("error fsyncing snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("error closing snapshot: %w", err)
	}
	ok = true
	return srv.SendAndClose(&machineapi.EtcdRecoverResponse{Messages: []*machineapi.EtcdRecover{{}}})
}

// bootstrapRecover is Bootstrap with RecoverEtcd: the checks of a plain
// bootstrap, then etcd's own restore of the uploaded snapshot into the
// data directory. As on Talos, the restore happens as etcd starts, after
// the call answered: a snapshot that does not restore fails the etcd
// service (its message says why) and leaves the cluster not bootstrapped.
func (m *machineServer) bootstrapRecover(skipHashCheck bool) (*machineapi.BootstrapResponse, error) {
	n, s := m.node, m.node.sim
	s.etcd.mu.Lock()
	defer s.etcd.mu.Unlock()
	s.mu.Lock()
	role, hostname, bootstrapped := n.role, n.hostname, s.bootstrapped
	s.mu.Unlock()
	if role != "controlplane" {
		return nil, status.Error(codes.FailedPrecondition, "bootstrap can only be performed on a control plane node")
	}
	if bootstrapped {
		return nil, status.Error(codes.AlreadyExists, "etcd data directory is not empty")
	}
	if hostname == "" {
		hostname = n.name
	}
	fail := func(err error) (*machineapi.BootstrapResponse, error) {
		_ = s.etcd.wipe()
		s.mu.Lock()
		s.etcdNodes.failed[n.name] = "Failed to run pre stage: " + err.Error()
		s.mu.Unlock()
		return &machineapi.BootstrapResponse{Messages: []*machineapi.Bootstrap{{}}}, nil
	}
	if err := s.etcd.ensureRoot(); err != nil {
		return nil, err
	}
	path := s.etcd.recoveryPath(n.name)
	mgr := snapshot.NewV3(zap.NewNop())
	if _, err := mgr.Status(path); err != nil {
		return fail(fmt.Errorf("error verifying snapshot: %w", err))
	}
	if err := s.etcd.wipe(); err != nil {
		return nil, err
	}
	if err := s.etcd.assignURLs(hostname); err != nil {
		return nil, err
	}
	if err := mgr.Restore(snapshot.RestoreConfig{
		SnapshotPath:   path,
		Name:           s.etcd.member,
		OutputDataDir:  s.etcd.dataDir(),
		PeerURLs:       []string{s.etcd.peer.String()},
		InitialCluster: s.etcd.member + "=" + s.etcd.peer.String(),
		SkipHashCheck:  skipHashCheck,
	}); err != nil {
		return fail(fmt.Errorf("error recovering from the snapshot: %w", err))
	}
	if err := os.Remove(path); err != nil {
		return fail(fmt.Errorf("error deleting snapshot: %w", err))
	}
	s.mu.Lock()
	s.bootstrapped = true
	clear(s.etcdNodes.wiped)
	clear(s.etcdNodes.failed)
	s.mu.Unlock()
	return &machineapi.BootstrapResponse{Messages: []*machineapi.Bootstrap{{}}}, nil
}

// WipeEphemeral wipes a node's EPHEMERAL partition, as
// `talosctl reset --system-labels-to-wipe EPHEMERAL` does: the node keeps
// its config (on STATE) and loses /var, so a control plane's etcd data and
// any uploaded recovery snapshot. Once no configured control plane keeps
// etcd data the cluster's etcd is gone: it stops, its data is removed, and
// the control planes wait for a bootstrap.
func (s *Sim) WipeEphemeral(name string) error {
	s.etcd.mu.Lock()
	defer s.etcd.mu.Unlock()
	s.mu.Lock()
	n, ok := s.nodes[name]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("no node %q", name)
	}
	n.started = time.Now()
	if n.role == "controlplane" {
		s.etcdNodes.wiped[name] = true
	}
	delete(s.etcdNodes.failed, name)
	gone := true
	for _, o := range s.order {
		if s.nodes[o].role == "controlplane" && !s.etcdNodes.wiped[o] {
			gone = false
		}
	}
	if gone {
		s.bootstrapped = false
		clear(s.etcdNodes.wiped)
	}
	s.mu.Unlock()
	if s.etcd.root != "" {
		if err := os.Remove(s.etcd.recoveryPath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if gone {
		return s.etcd.wipe()
	}
	return nil
}

// forgetEtcd removes the cluster's etcd once it is no longer bootstrapped
// (the last control plane went back to maintenance mode).
func (s *Sim) forgetEtcd() {
	s.etcd.mu.Lock()
	defer s.etcd.mu.Unlock()
	s.mu.Lock()
	gone := !s.bootstrapped
	s.mu.Unlock()
	if gone {
		_ = s.etcd.wipe()
	}
}
