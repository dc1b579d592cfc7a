package nodesim

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cosi-project/runtime/api/v1alpha1"
	"github.com/cosi-project/runtime/pkg/state"
	"github.com/cosi-project/runtime/pkg/state/impl/inmem"
	"github.com/cosi-project/runtime/pkg/state/impl/namespaced"
	cosiserver "github.com/cosi-project/runtime/pkg/state/protobuf/server"
	"github.com/siderolabs/talos/pkg/machinery/api/common"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/textdiff"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/client-go/kubernetes"
)

// Request is one call a node received.
type Request struct {
	// Node is the node's name.
	Node string
	// Method is the gRPC method, e.g. "ApplyConfiguration".
	Method string
	// Authenticated says the client presented a certificate of the
	// cluster's CA (false in maintenance mode).
	Authenticated bool
	// Config is the config sent to ApplyConfiguration.
	Config []byte
	// Mode and DryRun are ApplyConfiguration's.
	Mode   machineapi.ApplyConfigurationRequest_Mode
	DryRun bool
	// Image and Force are Upgrade's (upgrade.go).
	Image string
	Force bool
	// MemberID is EtcdRemoveMemberByID's (members.go).
	MemberID uint64
}

// Sim is a set of simulated Talos nodes sharing one cluster.
type Sim struct {
	version string
	// kubeEndpoint replaces the machine config's cluster endpoint in the
	// kubeconfig, when set.
	kubeEndpoint string
	ca           *x509.Certificate
	caKey        any
	k8sCA        *x509.Certificate
	k8sKey       any
	mu           sync.Mutex
	nodes        map[string]*Node
	order        []string
	reqs         []Request
	// bootstrapped says etcd was bootstrapped on a control plane.
	bootstrapped bool
	// etcd is the real etcd behind the cluster's etcd (etcd.go).
	etcd clusterEtcd
	// etcdNodes is each control plane's etcd state: wiped, failed (etcd.go).
	etcdNodes etcdNodeState

	// kube is the Kubernetes API the nodes' kubelets write their Node and
	// static pods to (WithKubelets; nil: none).
	kube kubernetes.Interface
	// kubeErrs are the kubelets' failed writes to kube (KubeletErr).
	kubeErrs []error

	// schematic is the Image Factory schematic every node boots with
	// (WithSchematic, upgrade.go); rebootTime is how long an upgrading
	// node is down (WithRebootTime).
	schematic  string
	rebootTime time.Duration

	// etcdMembers are the etcd members, leader the leader's ID (0: none), and
	// promoteAfter how long a joining member stays a learner (members.go).
	etcdMembers  []*member
	leader       uint64
	promoteAfter time.Duration
	// hook sees each request as it arrives (nodes.go's WithRequestHook).
	hook func(Request)
}

// Node is one simulated Talos node.
type Node struct {
	sim        *Sim
	name       string
	lis        net.Listener
	grpc       *grpc.Server
	maintCert  tls.Certificate
	nodeCert   tls.Certificate
	config     []byte
	role       string
	hostname   string
	endpoint   string
	unhealthy  map[string]string
	started    time.Time
	notRunning bool
	// st is the node's COSI state: the Kubernetes component resources
	// (kubernetes.go) and the ExtensionStatus resources (upgrade.go).
	st state.State
	// stalled are the Kubernetes components that do not come up on a new
	// image (SetStalled).
	stalled map[string]bool
	// version and schematic are what the node runs: the Sim's at start,
	// then what an upgrade installed (upgrade.go).
	version, schematic string
	// rebooting says an upgrade rebooted the node and it is not back yet;
	// fault is what its next upgrade does wrong (upgrade.go).
	rebooting bool
	fault     UpgradeFault
	// memberID is the etcd member the node's etcd data belongs to (0: an
	// empty data directory), etcdLeft says it left the cluster and its
	// etcd stopped (members.go); Reset clears both.
	memberID uint64
	etcdLeft bool
}

// Option configures a Sim.
type Option func(*Sim)

// WithVersion sets the Talos version the nodes report (default v1.12.7).
func WithVersion(v string) Option { return func(s *Sim) { s.version = v } }

// WithKubernetesEndpoint says where the simulated cluster's Kubernetes API
// server really is (e.g. a kubetest server with the cluster's Kubernetes
// CA, "https://127.0.0.1:PORT"): the kubeconfig a control plane hands out
// names it instead of the cluster endpoint of the node's machine config,
// which nothing serves here. A real Talos node hands out the config's
// endpoint; this is a choice of the simulator, as talosnode's endpoint
// overrides are for the Talos API.
func WithKubernetesEndpoint(url string) Option { return func(s *Sim) { s.kubeEndpoint = url } }

// New starts one node per name on loopback, in maintenance mode, for the
// cluster whose secrets bundle is given (its OS CA signs the nodes'
// certificates once configured, and must sign the clients').
func New(bundle *tsecrets.Bundle, names []string, opts ...Option) (*Sim, error) {
	ca, err := bundle.Certs.OS.GetCert()
	if err != nil {
		return nil, fmt.Errorf("the bundle's OS CA: %w", err)
	}
	caKey, err := bundle.Certs.OS.GetPrivateKey()
	if err != nil {
		return nil, fmt.Errorf("the bundle's OS CA key: %w", err)
	}
	k8sCA, err := bundle.Certs.K8s.GetCert()
	if err != nil {
		return nil, fmt.Errorf("the bundle's Kubernetes CA: %w", err)
	}
	k8sKey, err := parseKey(bundle.Certs.K8s.Key)
	if err != nil {
		return nil, fmt.Errorf("the bundle's Kubernetes CA key: %w", err)
	}
	s := &Sim{version: "v1.12.7", rebootTime: DefaultRebootTime, ca: ca, caKey: caKey, k8sCA: k8sCA, k8sKey: k8sKey, nodes: map[string]*Node{},
		etcdNodes: etcdNodeState{wiped: map[string]bool{}, failed: map[string]string{}}}
	for _, o := range opts {
		o(s)
	}
	for _, name := range names {
		n, err := s.start(name)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.mu.Lock()
		s.nodes[name] = n
		s.order = append(s.order, name)
		s.mu.Unlock()
	}
	return s, nil
}

func (s *Sim) start(name string) (*Node, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	n := &Node{sim: s, name: name, lis: lis, unhealthy: map[string]string{}, started: time.Now(),
		version: s.version, schematic: s.schematic, st: state.WrapCore(namespaced.NewState(inmem.Build)), stalled: map[string]bool{}}
	if n.maintCert, err = certificate(nil, nil, name); err != nil {
		lis.Close()
		return nil, err
	}
	if n.nodeCert, err = certificate(s.ca, s.caKey, name); err != nil {
		lis.Close()
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.ca)
	base := &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		if n.configured() {
			return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{n.nodeCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}, nil
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{n.maintCert}}, nil
	}}
	n.grpc = grpc.NewServer(grpc.Creds(credentials.NewTLS(base)))
	machineapi.RegisterMachineServiceServer(n.grpc, &machineServer{node: n})
	v1alpha1.RegisterStateServer(n.grpc, &stateGate{StateServer: cosiserver.NewState(n.st), node: n})
	if err := n.writeExtensions(context.Background()); err != nil {
		lis.Close()
		return nil, err
	}
	go n.grpc.Serve(lis) //nolint:errcheck // ends with Close
	return n, nil
}

// certificate makes a server certificate for 127.0.0.1: self-signed without
// a CA, as in maintenance mode.
func certificate(ca *x509.Certificate, caKey any, name string) (tls.Certificate, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{name},
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Close stops every node.
func (s *Sim) Close() {
	s.mu.Lock()
	nodes := make([]*Node, 0, len(s.nodes))
	for _, n := range s.nodes {
		nodes = append(nodes, n)
	}
	s.mu.Unlock()
	for _, n := range nodes {
		n.grpc.Stop()
	}
	s.etcd.close()
}

// Endpoint is a node's address, host:port.
func (s *Sim) Endpoint(name string) string {
	s.mu.Lock()
	n, ok := s.nodes[name]
	s.mu.Unlock()
	if !ok {
		return ""
	}
	return n.lis.Addr().String()
}

// Requests returns the calls received so far, in order.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// SetUnhealthy marks a service of a node unhealthy with a message ("" heals it).
func (s *Sim) SetUnhealthy(name, service, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if message == "" {
		delete(s.nodes[name].unhealthy, service)
		return
	}
	s.nodes[name].unhealthy[service] = message
}

// Reset puts a node back in maintenance mode with no config, as a VM
// recreated from the template boots: it forgets its role and hostname,
// and etcd is gone with the last configured control plane.
func (s *Sim) Reset(name string) {
	defer s.forgetEtcd()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[name]
	n.config, n.role, n.hostname, n.endpoint = nil, "", "", ""
	n.unhealthy = map[string]string{}
	n.memberID, n.etcdLeft = 0, false
	if !slices.ContainsFunc(s.order, func(o string) bool { return s.nodes[o].role == "controlplane" }) {
		s.bootstrapped = false
	}
}

// SetDown makes a node refuse connections until SetDown(name, false).
func (s *Sim) SetDown(name string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[name].notRunning = down
}

func (n *Node) configured() bool {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.config != nil
}

// setConfig loads a config as a node does and takes it.
func (n *Node) setConfig(data []byte) error {
	cfg, err := configloader.NewFromBytes(data)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "failed to parse config: %v", err)
	}
	role := cfg.Machine().Type().String()
	hostname := ""
	if hc := cfg.NetworkHostnameConfig(); hc != nil {
		hostname = hc.Hostname()
	}
	endpoint := ""
	if u := cfg.Cluster().Endpoint(); u != nil {
		endpoint = u.String()
	}
	n.sim.mu.Lock()
	n.config, n.role, n.hostname, n.endpoint = slices.Clone(data), role, hostname, endpoint
	n.sim.mu.Unlock()
	return n.follow(cfg)
}

// record notes a request and says whether the client was authenticated.
func (n *Node) record(ctx context.Context, r Request) (Request, error) {
	r.Node = n.name
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			r.Authenticated = len(ti.State.VerifiedChains) > 0
		}
	}
	n.sim.mu.Lock()
	n.sim.reqs = append(n.sim.reqs, r)
	down, hook := n.notRunning || n.rebooting, n.sim.hook
	n.sim.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	if down {
		return r, status.Error(codes.Unavailable, "connection refused")
	}
	return r, nil
}

// errMaintenance is what a node in maintenance mode answers to most calls.
var errMaintenance = status.Error(codes.Unimplemented, "API is not implemented in maintenance mode")

// machineServer is a node's MachineService.
type machineServer struct {
	machineapi.UnimplementedMachineServiceServer
	node *Node
}

func (m *machineServer) ApplyConfiguration(ctx context.Context, req *machineapi.ApplyConfigurationRequest) (*machineapi.ApplyConfigurationResponse, error) {
	n := m.node
	if _, err := n.record(ctx, Request{Method: "ApplyConfiguration", Config: slices.Clone(req.Data), Mode: req.Mode, DryRun: req.DryRun}); err != nil {
		return nil, err
	}
	if _, err := configloader.NewFromBytes(req.Data); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "failed to parse config: %v", err)
	}
	n.sim.mu.Lock()
	old := n.config
	n.sim.mu.Unlock()
	reply := func(mode machineapi.ApplyConfigurationRequest_Mode, details string) *machineapi.ApplyConfigurationResponse {
		return &machineapi.ApplyConfigurationResponse{Messages: []*machineapi.ApplyConfiguration{{Mode: mode, ModeDetails: details}}}
	}
	if req.DryRun {
		diff := "No changes."
		if !bytes.Equal(old, req.Data) {
			d, err := textdiff.Diff(string(old), string(req.Data))
			if err != nil {
				return nil, status.Error(codes.Internal, err.Error())
			}
			diff = d
		}
		return reply(machineapi.ApplyConfigurationRequest_NO_REBOOT, "Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\n\nConfig diff:\n\n"+diff), nil
	}
	if err := n.setConfig(req.Data); err != nil {
		return nil, err
	}
	if old == nil {
		return reply(machineapi.ApplyConfigurationRequest_REBOOT, "Applied configuration with a reboot: the node installs Talos and reboots into it"), nil
	}
	if bytes.Equal(old, req.Data) {
		return reply(machineapi.ApplyConfigurationRequest_NO_REBOOT, "Applied configuration without a reboot: no changes"), nil
	}
	return reply(machineapi.ApplyConfigurationRequest_NO_REBOOT, "Applied configuration without a reboot"), nil
}

func (m *machineServer) Version(ctx context.Context, _ *emptypb.Empty) (*machineapi.VersionResponse, error) {
	if _, err := m.node.record(ctx, Request{Method: "Version"}); err != nil {
		return nil, err
	}
	return &machineapi.VersionResponse{Messages: []*machineapi.Version{{
		Version: &machineapi.VersionInfo{Tag: m.node.running().version, Os: "linux", Arch: "amd64"},
	}}}, nil
}

// configuredOnly refuses calls in maintenance mode.
func (m *machineServer) configuredOnly(ctx context.Context, method string) error {
	if _, err := m.node.record(ctx, Request{Method: method}); err != nil {
		return err
	}
	if !m.node.configured() {
		return errMaintenance
	}
	return nil
}

func (m *machineServer) Bootstrap(ctx context.Context, req *machineapi.BootstrapRequest) (*machineapi.BootstrapResponse, error) {
	if err := m.configuredOnly(ctx, "Bootstrap"); err != nil {
		return nil, err
	}
	if req.GetRecoverEtcd() {
		return m.bootstrapRecover(req.GetRecoverSkipHashCheck())
	}
	s := m.node.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.node.role != "controlplane" {
		return nil, status.Error(codes.FailedPrecondition, "bootstrap is not available on worker nodes")
	}
	if s.bootstrapped {
		return nil, status.Error(codes.AlreadyExists, "etcd data directory is not empty")
	}
	s.bootstrapped = true
	delete(s.etcdNodes.failed, m.node.name)
	s.bootstrapMember(m.node)
	return &machineapi.BootstrapResponse{Messages: []*machineapi.Bootstrap{{}}}, nil
}

func (m *machineServer) Kubeconfig(_ *emptypb.Empty, stream grpc.ServerStreamingServer[common.Data]) error {
	if err := m.configuredOnly(stream.Context(), "Kubeconfig"); err != nil {
		return err
	}
	s := m.node.sim
	s.mu.Lock()
	ready := s.bootstrapped && m.node.role == "controlplane"
	s.mu.Unlock()
	if !ready {
		return status.Error(codes.FailedPrecondition, "kubeconfig is not available: the cluster is not bootstrapped")
	}
	s.mu.Lock()
	endpoint := m.node.endpoint
	if s.kubeEndpoint != "" {
		endpoint = s.kubeEndpoint
	}
	s.mu.Unlock()
	archive, err := kubeconfigArchive(endpoint, s.k8sCA, s.k8sKey)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return stream.Send(&common.Data{Bytes: archive})
}

// kubeconfigArchive is the .tar.gz Talos streams: one file, kubeconfig,
// for the cluster's endpoint, with a fresh admin client certificate
// (system:masters, one year) the cluster's Kubernetes CA signs, as Talos
// makes one on every request.
func kubeconfigArchive(endpoint string, k8sCA *x509.Certificate, k8sKey any) ([]byte, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, k8sCA, pub, k8sKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
  - name: homelab
    cluster:
      server: %s
      certificate-authority-data: %s
users:
  - name: admin@homelab
    user:
      client-certificate-data: %s
      client-key-data: %s
contexts:
  - name: admin@homelab
    context:
      cluster: homelab
      namespace: default
      user: admin@homelab
current-context: admin@homelab
`, endpoint, b64(pemBlock("CERTIFICATE", k8sCA.Raw)), b64(pemBlock("CERTIFICATE", der)), b64(pemBlock("PRIVATE KEY", keyDER)))
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "kubeconfig", Mode: 0o600, Size: int64(len(kc))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write([]byte(kc)); err != nil {
		return nil, err
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseKey reads a PEM private key: PKCS #8 or SEC 1 (EC), as Talos
// writes the Kubernetes CA's.
func parseKey(pemKey []byte) (any, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return x509.ParseECPrivateKey(block.Bytes)
}

// pemBlock encodes DER as PEM.
func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// services are what a configured node runs.
func (n *Node) services() []*machineapi.ServiceInfo {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	ids := []string{"apid", "containerd", "cri", "kubelet", "machined", "udevd"}
	if n.role == "controlplane" {
		ids = append(ids, "etcd", "trustd")
	}
	slices.Sort(ids)
	var out []*machineapi.ServiceInfo
	for _, id := range ids {
		state, health := "Running", &machineapi.ServiceHealth{Healthy: true}
		switch {
		case id == "etcd" && n.sim.etcdDown(n.name):
			state, health = n.sim.etcdDownState(n.name)
		case id == "etcd" && n.unhealthy[id] == "":
			if st, h, ok := n.etcdService(); ok {
				state, health = st, h
			}
		case n.unhealthy[id] != "":
			health = &machineapi.ServiceHealth{Healthy: false, LastMessage: n.unhealthy[id]}
		}
		events := &machineapi.ServiceEvents{Events: []*machineapi.ServiceEvent{{Msg: "Service " + strings.ToLower(state), State: state, Ts: timestamppb.New(n.started)}}}
		out = append(out, &machineapi.ServiceInfo{Id: id, State: state, Health: health, Events: events})
	}
	return out
}

func (m *machineServer) ServiceList(ctx context.Context, _ *emptypb.Empty) (*machineapi.ServiceListResponse, error) {
	if err := m.configuredOnly(ctx, "ServiceList"); err != nil {
		return nil, err
	}
	return &machineapi.ServiceListResponse{Messages: []*machineapi.ServiceList{{Services: m.node.services()}}}, nil
}

func (m *machineServer) Containers(ctx context.Context, _ *machineapi.ContainersRequest) (*machineapi.ContainersResponse, error) {
	if err := m.configuredOnly(ctx, "Containers"); err != nil {
		return nil, err
	}
	return &machineapi.ContainersResponse{Messages: []*machineapi.Container{{Containers: []*machineapi.ContainerInfo{
		{Namespace: "k8s.io", Id: "kube-apiserver", PodId: "kube-system/kube-apiserver-" + m.node.hostname, Status: "CONTAINER_RUNNING", Pid: 100},
	}}}}, nil
}

// stream sends text as one Data message.
func stream(s grpc.ServerStreamingServer[common.Data], text string) error {
	return s.Send(&common.Data{Bytes: []byte(text)})
}

func (m *machineServer) Dmesg(_ *machineapi.DmesgRequest, s grpc.ServerStreamingServer[common.Data]) error {
	if err := m.configuredOnly(s.Context(), "Dmesg"); err != nil {
		return err
	}
	return stream(s, "[    0.000000] Linux version 6.12 (simulated)\n[    1.000000] talos: booted\n")
}

func (m *machineServer) Logs(req *machineapi.LogsRequest, s grpc.ServerStreamingServer[common.Data]) error {
	if err := m.configuredOnly(s.Context(), "Logs"); err != nil {
		return err
	}
	return stream(s, fmt.Sprintf("%s: simulated log of %s\n", m.node.name, req.Id))
}

func (m *machineServer) Processes(ctx context.Context, _ *emptypb.Empty) (*machineapi.ProcessesResponse, error) {
	if err := m.configuredOnly(ctx, "Processes"); err != nil {
		return nil, err
	}
	return &machineapi.ProcessesResponse{Messages: []*machineapi.Process{{Processes: []*machineapi.ProcessInfo{{Pid: 1, Command: "machined"}}}}}, nil
}

func (m *machineServer) Mounts(ctx context.Context, _ *emptypb.Empty) (*machineapi.MountsResponse, error) {
	if err := m.configuredOnly(ctx, "Mounts"); err != nil {
		return nil, err
	}
	return &machineapi.MountsResponse{Messages: []*machineapi.Mounts{{Stats: []*machineapi.MountStat{{Filesystem: "/dev/sda6", MountedOn: "/var", Size: 100 << 30, Available: 90 << 30}}}}}, nil
}
