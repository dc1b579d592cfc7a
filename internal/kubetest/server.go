package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
)

// ErrToolMissing says kube-apiserver or etcd is not built in the tool cache.
var ErrToolMissing = errors.New("a program the test API server runs is missing")

// Binaries are the programs a Server runs.
type Binaries struct {
	// KubeAPIServer is the kube-apiserver binary's path.
	KubeAPIServer string
	// Etcd is the etcd binary's path.
	Etcd string
}

// LookupBinaries returns kube-apiserver and etcd from the tool cache
// (toolchain.CacheDir) at the versions inventoryFile's tools: lists
// (testsuite.GoTool). A program not built there is an error wrapping
// ErrToolMissing that names each and where it was looked for.
func LookupBinaries(inventoryFile string) (Binaries, error) {
	cache, err := toolchain.CacheDir()
	if err != nil {
		return Binaries{}, err
	}
	var missing []string
	find := func(command string) string {
		tool, err := testsuite.GoTool(inventoryFile, command)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (%v)", command, err))
			return ""
		}
		path := tool.Path(cache)
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, fmt.Sprintf("%s (not built at %s)", tool, path))
		}
		return path
	}
	b := Binaries{KubeAPIServer: find("kube-apiserver"), Etcd: find("etcd")}
	if len(missing) > 0 {
		return Binaries{}, fmt.Errorf("%w: %s; the test suite's tools step builds them (go run mage.go test)", ErrToolMissing, strings.Join(missing, ", "))
	}
	return b, nil
}

// RepositoryInventory returns the inventory file of the repository the
// working directory is in: the homelab.yaml beside the go.mod of module
// github.com/wdiazux/infra, looked for from dir upwards. Tests run in
// their package's directory, so it finds the repository's homelab.yaml.
func RepositoryInventory(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find the repository's %s from %s: %w", inventory.DefaultFile, dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		gomod, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(gomod), "module "+repositoryModule+"\n") {
			return filepath.Join(d, inventory.DefaultFile), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find the repository's %s: no go.mod of module %s in %s or above; pass the inventory with WithInventory", inventory.DefaultFile, repositoryModule, abs)
		}
	}
}

// repositoryModule is the module whose homelab.yaml pins the versions.
const repositoryModule = "github.com/wdiazux/infra"

// Option configures Start.
type Option func(*options)

type options struct {
	binaries     *Binaries
	inventory    string
	log          *slog.Logger
	startTimeout time.Duration
	stopTimeout  time.Duration
	serviceCIDR  string
	clusterCA    *clusterCA
}

// WithBinaries runs these programs instead of the tool cache's.
func WithBinaries(b Binaries) Option { return func(o *options) { o.binaries = &b } }

// WithInventory takes the versions of kube-apiserver and etcd from this
// inventory file (default: RepositoryInventory of the working directory).
func WithInventory(file string) Option { return func(o *options) { o.inventory = file } }

// WithLogger sets the logger that reports the phases of start and stop
// (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithStartTimeout bounds how long each of etcd and kube-apiserver may take
// to answer its health check (default: 90 s; they need 5 to 8 s on idle
// cores, much more when the machine's cores are busy).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.startTimeout = d } }

// WithServiceCIDR sets the range the server allocates Service cluster IPs
// from (default: 10.96.0.0/12, Talos' default service subnet).
func WithServiceCIDR(cidr string) Option { return func(o *options) { o.serviceCIDR = cidr } }

// WithClusterCA makes the server use this Kubernetes CA (PEM certificate
// and private key: PKCS #8, SEC 1 or PKCS #1), as a Talos control plane
// uses its cluster's: the serving certificate (127.0.0.1, ::1, localhost,
// kubernetes.default.svc) is signed by it, and it is the client CA
// (--client-ca-file), so a client certificate it signs authenticates as
// its subject: CN the user, O the groups (O=system:masters is an admin).
// The admin token keeps working. Without it the server makes a CA of its
// own, which is also its client CA. A certificate that is not a CA's, or
// a key that is not its, is refused by Start before anything runs.
func WithClusterCA(certPEM, keyPEM []byte) Option {
	return func(o *options) { o.clusterCA = &clusterCA{cert: certPEM, key: keyPEM} }
}

// Server is a running etcd and kube-apiserver on loopback, in a temporary
// directory of their own that Stop removes.
type Server struct {
	dir        string
	cfg        *rest.Config
	kubeconfig string
	etcd       *process
	apiserver  *process
	log        *slog.Logger
	stopWait   time.Duration

	stopOnce sync.Once
	stopErr  error
	nsMu     sync.Mutex
	nsCount  int
}

// StartError says which program failed in which phase of the start, with
// the tail of its log.
type StartError struct {
	// Program is "etcd" or "kube-apiserver".
	Program string
	// Phase is what was being done: "start", "health check".
	Phase string
	// Err is the cause.
	Err error
	// LogTail are the last lines the program wrote.
	LogTail string
}

// Error names the program, the phase and the cause, then the log's tail.
func (e *StartError) Error() string {
	msg := fmt.Sprintf("test API server: %s: %s: %v", e.Program, e.Phase, e.Err)
	if e.LogTail != "" {
		msg += "\nlast lines of its log:\n" + e.LogTail
	}
	return msg
}

// Unwrap returns the cause.
func (e *StartError) Unwrap() error { return e.Err }

// Start runs etcd and kube-apiserver on free loopback ports and returns when
// the API server answers /readyz and holds the default namespace. The
// processes outlive ctx, which bounds only the start: Stop ends them.
// kube-apiserver authenticates a static admin token (group
// system:masters) over TLS with a CA made for this server; Config and
// KubeconfigFile carry both. A missing program is an error wrapping
// ErrToolMissing; a program that does not come up, a *StartError.
func Start(ctx context.Context, opts ...Option) (*Server, error) {
	o := options{
		log:          slog.New(slog.DiscardHandler),
		startTimeout: 90 * time.Second,
		stopTimeout:  15 * time.Second,
		serviceCIDR:  "10.96.0.0/12",
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clusterCA != nil {
		if _, _, err := o.clusterCA.parse(); err != nil {
			return nil, fmt.Errorf("test API server: %w", err)
		}
	}
	bins := o.binaries
	if bins == nil {
		file := o.inventory
		if file == "" {
			var err error
			if file, err = RepositoryInventory("."); err != nil {
				return nil, err
			}
		}
		b, err := LookupBinaries(file)
		if err != nil {
			return nil, err
		}
		bins = &b
	}
	dir, err := os.MkdirTemp("", "kubetest-")
	if err != nil {
		return nil, fmt.Errorf("test API server: create its directory: %w", err)
	}
	s := &Server{dir: dir, log: o.log, stopWait: o.stopTimeout}
	// A port found free may be taken by another test's server before ours
	// binds it: try again with new ports.
	for attempt := 1; ; attempt++ {
		err = s.start(ctx, *bins, o)
		if err == nil {
			return s, nil
		}
		var se *StartError
		retry := errors.As(err, &se) && strings.Contains(se.LogTail, "address already in use") && attempt < 3
		s.stopProcesses()
		if !retry {
			break
		}
		o.log.Info("a port was taken, starting again", "err", err)
	}
	if rerr := os.RemoveAll(dir); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return nil, err
}

// start runs both programs once.
func (s *Server) start(ctx context.Context, bins Binaries, o options) error {
	begin := time.Now()
	ports, err := freePorts(3)
	if err != nil {
		return &StartError{Program: "etcd", Phase: "find free loopback ports", Err: err}
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	data := filepath.Join(s.dir, "etcd")
	if err := os.RemoveAll(data); err != nil {
		return &StartError{Program: "etcd", Phase: "clear its data directory", Err: err}
	}
	s.etcd, err = startProcess("etcd", bins.Etcd, filepath.Join(s.dir, "etcd.log"),
		"--name=kubetest", "--data-dir="+data,
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL, "--initial-cluster-state=new",
		// A test's data need not survive a crash of the machine.
		"--unsafe-no-fsync", "--log-level=warn")
	if err != nil {
		return err
	}
	if err := s.etcd.waitHealthy(ctx, o.startTimeout, &http.Client{Timeout: 2 * time.Second}, etcdURL+"/health", nil); err != nil {
		return err
	}
	s.log.Info("etcd is healthy", "url", etcdURL, "took", time.Since(begin).Round(time.Millisecond))

	pki, err := newPKI(s.dir, o.clusterCA)
	if err != nil {
		return &StartError{Program: "kube-apiserver", Phase: "make its certificates and keys", Err: err}
	}
	host := "https://127.0.0.1:" + strconv.Itoa(ports[2])
	s.apiserver, err = startProcess("kube-apiserver", bins.KubeAPIServer, filepath.Join(s.dir, "kube-apiserver.log"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(ports[2]),
		"--cert-dir="+filepath.Join(s.dir, "apiserver-certs"),
		"--tls-cert-file="+pki.servingCert, "--tls-private-key-file="+pki.servingKey,
		"--token-auth-file="+pki.tokenFile, "--client-ca-file="+pki.clientCA,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki.saPublic, "--service-account-signing-key-file="+pki.saKey,
		"--service-cluster-ip-range="+o.serviceCIDR,
		// Cilium's and Longhorn's DaemonSets run privileged containers;
		// without this the server refuses their pod templates.
		"--allow-privileged=true",
		"--v=1")
	if err != nil {
		return err
	}
	s.cfg = &rest.Config{
		Host:            host,
		BearerToken:     pki.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: pki.caPEM},
		Timeout:         30 * time.Second,
		QPS:             50,
		Burst:           100,
	}
	tlsCfg, err := rest.TLSConfigFor(s.cfg)
	if err != nil {
		return &StartError{Program: "kube-apiserver", Phase: "make the health check's TLS configuration", Err: err}
	}
	probe := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer probe.CloseIdleConnections()
	auth := http.Header{"Authorization": {"Bearer " + pki.token}}
	if err := s.apiserver.waitHealthy(ctx, o.startTimeout, probe, host+"/readyz", auth); err != nil {
		return err
	}
	if err := s.apiserver.waitHealthy(ctx, o.startTimeout, probe, host+"/api/v1/namespaces/default", auth); err != nil {
		err.Phase = "wait for the default namespace"
		return err
	}
	s.kubeconfig = filepath.Join(s.dir, "kubeconfig")
	if err := writeKubeconfig(s.kubeconfig, s.cfg); err != nil {
		return &StartError{Program: "kube-apiserver", Phase: "write the kubeconfig", Err: err}
	}
	s.log.Info("kube-apiserver is ready", "url", host, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// Config returns a copy of the client configuration of the server's admin
// (group system:masters).
func (s *Server) Config() *rest.Config { return rest.CopyConfig(s.cfg) }

// KubeconfigFile returns the path of a kubeconfig file (mode 0600) for the
// server's admin, for code that reads a kubeconfig path. Its context is
// "kubetest".
func (s *Server) KubeconfigFile() string { return s.kubeconfig }

// Dir returns the server's temporary directory, which holds the programs'
// logs (etcd.log, kube-apiserver.log).
func (s *Server) Dir() string { return s.dir }

// Stop ends kube-apiserver, then etcd (SIGTERM, SIGKILL after 15 s), and
// removes the server's directory. It is safe to call more than once; every
// call returns the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		begin := time.Now()
		s.stopErr = errors.Join(s.stopProcesses(), os.RemoveAll(s.dir))
		s.log.Info("test API server stopped", "took", time.Since(begin).Round(time.Millisecond), "err", s.stopErr)
	})
	return s.stopErr
}

// stopProcesses ends the programs that run, API server first.
func (s *Server) stopProcesses() error {
	var errs []error
	for _, p := range []*process{s.apiserver, s.etcd} {
		if p != nil {
			errs = append(errs, p.stop(s.stopWait))
		}
	}
	s.apiserver, s.etcd = nil, nil
	return errors.Join(errs...)
}

// writeKubeconfig writes cfg as a kubeconfig file, mode 0600.
func writeKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kubetest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["kubetest-admin"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: "kubetest-admin"}
	kc.CurrentContext = "kubetest"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// freePorts returns n loopback TCP ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// randomToken returns 32 random bytes in hex.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// process is a running program whose output goes to a log file.
type process struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done closes
}

// startProcess runs path with args, its output going to logFile.
func startProcess(name, path, logFile string, args ...string) (*process, error) {
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, &StartError{Program: name, Phase: "create its log", Err: err}
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, &StartError{Program: name, Phase: "start " + path, Err: err}
	}
	p := &process{name: name, log: logFile, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = out.Close()
		close(p.done)
	}()
	return p, nil
}

// waitHealthy polls url until it answers 200, the process exits, ctx ends
// or timeout passes.
func (p *process) waitHealthy(ctx context.Context, timeout time.Duration, client *http.Client, url string, header http.Header) *StartError {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error // the last answer that was not healthy
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return p.failed("health check", err)
		}
		req.Header = header
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("GET %s: %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-p.done:
			return p.failed("health check", fmt.Errorf("exited (%v) before answering GET %s", p.err, url))
		case <-ctx.Done():
			return p.failed("health check", fmt.Errorf("no healthy answer from GET %s within %s (%w); last: %v", url, timeout, ctx.Err(), last))
		case <-tick.C:
		}
	}
}

// failed is a *StartError of the process with the tail of its log.
func (p *process) failed(phase string, err error) *StartError {
	return &StartError{Program: p.name, Phase: phase, Err: err, LogTail: tail(p.log, 30)}
}

// stop sends SIGTERM, then SIGKILL after wait, and waits for the exit.
func (p *process) stop(wait time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(wait):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, p.cmd.Process.Pid, err)
	}
	<-p.done
	return fmt.Errorf("%s (pid %d) did not end within %s of SIGTERM and was killed; its log: %s", p.name, p.cmd.Process.Pid, wait, p.log)
}

// tail returns the last n lines of the file, or why it cannot be read.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", file, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
