package pvesim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pvesim/internal/schema"
)

// maxBody is pveproxy's limit for request bodies other than uploads.
const maxBody = 512 << 10

// Server is a simulated Proxmox VE 9 API on a loopback HTTPS listener.
type Server struct {
	schema      *schema.Schema
	configTypes map[string]string // JSON types of VM config values (vmConfigTypes)
	world       *world
	handlers    map[string]handler
	log         *slog.Logger
	faults      *faults
	httpSrv     *httptest.Server
	caPEM       []byte
	fp          string
	ownsDir     bool

	authDelay    time.Duration
	taskDuration time.Duration
	bootDelay    time.Duration // from a VM's start to its guest OS being up
	httpClient   *http.Client  // what download-url fetches with

	reqMu    sync.Mutex
	requests []Request

	statsStop chan struct{} // closed by Close to stop the statistics loop
	statsDone chan struct{} // closed when it stopped
}

// Request is one request the simulator answered, for tests to assert on.
type Request struct {
	// Method and Path (below /api2/json) of the request.
	Method string
	Path   string
	// Params are the request's query and body parameters.
	Params map[string]string
	// Status is the HTTP status of the answer (0 for a reset connection).
	Status int
}

type options struct {
	setup        Setup
	dataDir      string
	log          *slog.Logger
	authDelay    time.Duration
	taskDuration time.Duration
	bootDelay    time.Duration
	bandwidth    int64
	listenAddr   string
	stats        time.Duration
}

// Option configures a Server.
type Option func(*options)

// WithSetup sets the world the simulator starts with (default DefaultSetup()).
func WithSetup(s Setup) Option { return func(o *options) { o.setup = s } }

// WithDataDir keeps file-based storages' files in dir (default: a temporary
// directory removed by Close).
func WithDataDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// WithLogger logs every request (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithAuthFailureDelay delays answers to failed logins, as pveproxy does (up
// to 3 s there; default 0 here).
func WithAuthFailureDelay(d time.Duration) Option { return func(o *options) { o.authDelay = d } }

// WithTaskDuration makes every task run at least d before it stops (default
// 0: tasks finish as fast as their work).
func WithTaskDuration(d time.Duration) Option { return func(o *options) { o.taskDuration = d } }

// WithGuestBootDelay sets how long a started VM's guest takes to boot
// (default 0: at once). Until then the guest ignores ACPI shutdown requests
// and its guest agent does not answer; afterwards the agent reports the
// addresses of the VM's cloud-init ipconfig.
func WithGuestBootDelay(d time.Duration) Option { return func(o *options) { o.bootDelay = d } }

// WithDownloadBandwidth limits download-url transfers to bytesPerSecond, so
// transfer timing and progress can be observed (default: unlimited).
func WithDownloadBandwidth(bytesPerSecond int64) Option {
	return func(o *options) { o.bandwidth = bytesPerSecond }
}

// WithListenAddr listens on a loopback address such as 127.0.0.1:8006
// (default: a free port on 127.0.0.1).
func WithListenAddr(addr string) Option { return func(o *options) { o.listenAddr = addr } }

// WithStatsInterval sets how often the VM statistics that
// /cluster/resources reads are refreshed, as pvestatd does (default
// DefaultStatsInterval, 10 s). Between refreshes the list shows every
// field but membership, lock and tags as they were at the last refresh;
// Tick refreshes at once. 0 makes the list live, which no PVE host does:
// use it only for tests that are not about the list.
func WithStatsInterval(d time.Duration) Option { return func(o *options) { o.stats = d } }

// New starts a simulator. Close it when done.
func New(opts ...Option) (*Server, error) {
	o := options{setup: DefaultSetup(), log: slog.New(slog.DiscardHandler), stats: DefaultStatsInterval}
	for _, opt := range opts {
		opt(&o)
	}
	sch, err := schema.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{schema: sch, configTypes: vmConfigTypes(sch), log: o.log, faults: newFaults(o.bandwidth), authDelay: o.authDelay, taskDuration: o.taskDuration, bootDelay: o.bootDelay}
	if o.dataDir == "" {
		if o.dataDir, err = os.MkdirTemp("", "pvesim-"); err != nil {
			return nil, fmt.Errorf("pvesim: data directory: %w", err)
		}
		s.ownsDir = true
	}
	if s.world, err = newWorld(o.setup, o.dataDir); err != nil {
		s.removeDir(o.dataDir)
		return nil, err
	}
	// The host has been up for a while: the setup's VMs have statistics.
	s.world.statsInterval = max(o.stats, 0)
	s.world.refreshStats(time.Now())
	s.handlers = handlers()
	if err := s.start(o.listenAddr); err != nil {
		s.removeDir(o.dataDir)
		return nil, err
	}
	s.statsStop, s.statsDone = make(chan struct{}), make(chan struct{})
	if o.stats > 0 {
		go s.runStats(o.stats, s.statsStop, s.statsDone)
	} else {
		close(s.statsDone)
	}
	return s, nil
}

func (s *Server) removeDir(dir string) {
	if s.ownsDir {
		_ = os.RemoveAll(dir)
	}
}

func (s *Server) start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("pvesim: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("pvesim: refusing to listen on %s: the simulator serves loopback addresses only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pvesim: listen on %s: %w", addr, err)
	}
	cert, caPEM, fp, err := selfSignedCert()
	if err != nil {
		ln.Close()
		return err
	}
	s.caPEM, s.fp = caPEM, fp
	s.httpSrv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.httpSrv.Config.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	s.httpSrv.Listener.Close()
	s.httpSrv.Listener = ln
	s.httpSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	s.httpSrv.StartTLS()
	s.httpClient = &http.Client{Timeout: 0}
	return nil
}

// selfSignedCert makes the certificate a fresh PVE install has: self-signed,
// here for the loopback names. It returns the PEM to trust and the SHA-256
// fingerprint in PVE's notation (AA:BB:...).
func selfSignedCert() (tls.Certificate, []byte, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, "", fmt.Errorf("pvesim: key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "pve.pvesim", Organization: []string{"PVE Cluster Node"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", "pve"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, "", fmt.Errorf("pvesim: certificate: %w", err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caPEM, Fingerprint(der), nil
}

// Fingerprint formats the SHA-256 of a DER certificate as PVE shows it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// Token returns the ID and secret of the setup's first API token.
func (s *Server) Token() (id, secret string) {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	return s.world.firstToken, s.world.subjects[s.world.firstToken].secret
}

// URL is the API base URL, https://127.0.0.1:PORT/api2/json.
func (s *Server) URL() string { return s.httpSrv.URL + "/api2/json" }

// CACertPEM is the PEM of the server's self-signed certificate.
func (s *Server) CACertPEM() []byte { return s.caPEM }

// Fingerprint is the SHA-256 fingerprint of the server's certificate.
func (s *Server) Fingerprint() string { return s.fp }

// Close stops the server, stops running tasks and removes the temporary data
// directory.
func (s *Server) Close() {
	s.httpSrv.Close()
	close(s.statsStop)
	<-s.statsDone
	s.world.mu.Lock()
	for _, t := range s.world.tasks {
		if t.cancel != nil {
			t.cancel()
		}
	}
	dir := s.world.dataDir
	s.world.mu.Unlock()
	s.waitTasks()
	s.removeDir(dir)
}

// Requests returns the requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Mutating returns the requests of reqs that can change the host: every
// method but GET (PVE's API reads only with GET).
func Mutating(reqs []Request) []Request {
	var out []Request
	for _, r := range reqs {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) record(r Request) {
	s.reqMu.Lock()
	s.requests = append(s.requests, r)
	s.reqMu.Unlock()
}

// request is a validated API request as a handler sees it.
type request struct {
	method string
	path   string
	m      *schema.Method
	params map[string]string
	who    *subject
	http   *http.Request
	ctx    context.Context
	upload *uploaded // the spooled file of an upload
}

func (r *request) param(name string) string { return r.params[name] }

func (r *request) has(name string) bool {
	_, ok := r.params[name]
	return ok
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method}
	out := s.serve(r, &rec)
	rec.Status = out.status
	if out.err != nil {
		rec.Status = out.err.status
		// Drain what is left of the body so the client reads the answer.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
	}
	// Record before answering, so a client that sees the answer also
	// sees the request in Requests.
	s.record(rec)
	s.log.Debug("pvesim request", "method", rec.Method, "path", rec.Path, "status", rec.Status)
	switch {
	case out.reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
	case out.err != nil:
		writeError(w, out.err)
	case out.paged != nil:
		writeData(w, out.paged.data, &out.paged.total)
	default:
		writeData(w, out.data, nil)
	}
}

// outcome is how a request is answered: data, an error, or a reset.
type outcome struct {
	status int
	data   any
	paged  *paged
	err    *apiError
	reset  bool
}

func failure(e *apiError) outcome { return outcome{err: e} }

// serve works out the answer to a request without writing it.
func (s *Server) serve(r *http.Request, rec *Request) outcome {
	apiPath, ok := strings.CutPrefix(r.URL.Path, "/api2/json")
	if !ok {
		return failure(notImplemented(r.Method, r.URL.Path))
	}
	if apiPath == "" {
		apiPath = "/"
	}
	rec.Path = apiPath
	if f := s.faults.take(r.Method, apiPath); f != nil {
		if out, done := s.applyFault(r, f); done {
			return out
		}
	}
	m, vars, found := s.schema.Lookup(r.Method, apiPath)
	var who *subject
	if !found || m.Permissions.User != "world" {
		var err *apiError
		if who, err = s.authenticate(r); err != nil {
			if s.authDelay > 0 {
				time.Sleep(s.authDelay)
			}
			return failure(err)
		}
	}
	if !found {
		return failure(notImplemented(r.Method, apiPath))
	}
	raw, perr := s.readParams(r, m)
	if perr != nil {
		return failure(perr)
	}
	var up *uploaded
	if m.Name == "upload" {
		if up, perr = s.readUpload(r, raw); perr != nil {
			return failure(perr)
		}
	}
	for k, v := range vars {
		raw[k] = v
	}
	rec.Params = stringParams(raw, vars)
	params, errs := m.Validate(raw)
	if len(errs) > 0 {
		if up != nil {
			os.Remove(up.tmp)
		}
		return failure(badParams(errs))
	}
	req := &request{method: r.Method, path: apiPath, m: m, params: params, who: who, http: r, ctx: r.Context(), upload: up}
	if who != nil {
		if err := s.checkSchemaPermissions(req); err != nil {
			if up != nil {
				os.Remove(up.tmp)
			}
			var ae *apiError
			errors.As(err, &ae)
			return failure(ae)
		}
	}
	h, ok := s.handlers[m.Method+" "+m.Path]
	if !ok {
		return failure(notImplemented(r.Method, apiPath))
	}
	data, err := h(s, req)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = failed("%v", err)
		}
		return failure(ae)
	}
	if p, ok := data.(paged); ok {
		return outcome{status: http.StatusOK, paged: &p}
	}
	return outcome{status: http.StatusOK, data: data}
}

// stringParams renders the request's own parameters (path variables left
// out) for the request log.
func stringParams(raw map[string]any, vars map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range raw {
		if _, isVar := vars[k]; isVar {
			continue
		}
		switch x := v.(type) {
		case string:
			out[k] = x
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out
}

// readParams merges the query and the body (form or JSON) of a request.
// Uploads read their multipart body in their handler.
func (s *Server) readParams(r *http.Request, m *schema.Method) (map[string]any, *apiError) {
	params := map[string]any{}
	for k, v := range r.URL.Query() {
		params[k] = v[len(v)-1]
	}
	hasBody := r.ContentLength > 0 || len(r.TransferEncoding) > 0
	if r.Method == http.MethodGet || r.Method == http.MethodDelete {
		if hasBody {
			return nil, &apiError{status: http.StatusNotImplemented, msg: fmt.Sprintf("Unexpected content for method '%s'", r.Method)}
		}
		return params, nil
	}
	if !hasBody {
		return params, nil
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if m.Name == "upload" {
		if ctype != "multipart/form-data" {
			return nil, badParam("filename", "upload needs a multipart/form-data body")
		}
		return params, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, msg: "unable to read request body"}
	}
	if len(body) > maxBody {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, msg: "request entity too large"}
	}
	switch ctype {
	case "application/json":
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, &apiError{status: http.StatusBadRequest, msg: "malformed JSON body: " + err.Error()}
		}
		for k, v := range obj {
			if v != nil {
				params[k] = v
			}
		}
	case "application/x-www-form-urlencoded", "":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &apiError{status: http.StatusBadRequest, msg: "malformed form body: " + err.Error()}
		}
		for k, v := range vals {
			params[k] = v[len(v)-1]
		}
	default:
		return nil, &apiError{status: http.StatusUnsupportedMediaType, msg: fmt.Sprintf("unsupported content type '%s'", ctype)}
	}
	return params, nil
}

// Serve runs a simulator until ctx ends, writing to w how to point the tools
// at it (export lines for PROXMOX_URL, the token, the TLS fingerprint and
// PROXMOX_CA_FILE, a file holding its CA certificate that is removed when it
// stops).
func Serve(ctx context.Context, w io.Writer, opts ...Option) error {
	s, err := New(opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	id, secret := s.Token()
	s.world.mu.Lock()
	node, version := s.world.node, s.world.version
	s.world.mu.Unlock()
	fmt.Fprintf(w, "pvesim: Proxmox VE %s (simulated), node %s, at %s\n", version, node, s.URL())
	fmt.Fprintf(w, "Point the tools at it (this token exists only while the simulator runs):\n\n")
	// Terraform's provider cannot pin a fingerprint: it trusts the CA.
	ca, err := os.CreateTemp("", "pvesim-ca-*.pem")
	if err != nil {
		return fmt.Errorf("pvesim: write the CA certificate: %w", err)
	}
	defer os.Remove(ca.Name())
	_, err = ca.Write(s.CACertPEM())
	if cerr := ca.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pvesim: write the CA certificate %s: %w", ca.Name(), err)
	}
	fmt.Fprintf(w, "export PROXMOX_URL=%s\nexport PROXMOX_TOKEN_ID='%s'\nexport PROXMOX_TOKEN_SECRET=%s\nexport PROXMOX_TLS_FINGERPRINT=%s\nexport PROXMOX_CA_FILE=%s\n\n",
		s.URL(), id, secret, s.Fingerprint(), ca.Name())
	fmt.Fprintf(w, "Stop it with Ctrl-C.\n")
	<-ctx.Done()
	return nil
}
