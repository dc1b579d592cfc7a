package netxtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wdiazux/infra/lib/netx"
)

// Behaviour is how a Server misbehaves.
type Behaviour int

const (
	// AcceptOnly accepts TCP connections and never sends a byte: a TLS
	// client waits in its handshake, a plain HTTP client for the answer.
	AcceptOnly Behaviour = iota
	// SilentAfterTLS completes the TLS handshake (offering h2 and
	// http/1.1), then reads and never answers.
	SilentAfterTLS
	// SilentAfterRequest reads a plain HTTP request and never answers.
	SilentAfterRequest
	// StallBody answers a plain HTTP request with 200, a Content-Length of
	// 1 MiB and the first few bytes of the body, then stalls.
	StallBody
	// StallBodyTLS is StallBody over TLS.
	StallBodyTLS
)

// Server is a loopback listener that misbehaves in one way, until Close.
type Server struct {
	ln    net.Listener
	cert  tls.Certificate
	b     Behaviour
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
	wg    sync.WaitGroup
}

// Start listens on 127.0.0.1 on a free port and misbehaves as b.
func Start(b Behaviour) (*Server, error) {
	cert, err := SelfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, cert: cert, b: b, done: make(chan struct{})}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is https://Addr for the TLS behaviours and AcceptOnly, http://Addr
// for the plain HTTP ones.
func (s *Server) URL() string {
	if s.b == SilentAfterRequest || s.b == StallBody {
		return "http://" + s.Addr()
	}
	return "https://" + s.Addr()
}

// Fingerprint is the SHA-256 fingerprint of the server's certificate,
// AA:BB:..., as Proxmox shows one.
func (s *Server) Fingerprint() string {
	sum := sha256.Sum256(s.cert.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// CertPool holds the server's certificate, to trust it.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.cert.Leaf)
	return pool
}

// Close stops listening and drops every connection.
func (s *Server) Close() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, conn)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(conn)
		}()
	}
}

// handle misbehaves on one connection until the server closes.
func (s *Server) handle(conn net.Conn) {
	switch s.b {
	case AcceptOnly:
	case SilentAfterTLS:
		tc := s.tlsServer(conn)
		if tc.Handshake() != nil {
			return
		}
		s.drain(tc)
	case SilentAfterRequest:
		s.drain(conn)
	case StallBody:
		s.stallBody(conn)
	case StallBodyTLS:
		tc := s.tlsServer(conn)
		if tc.Handshake() != nil {
			return
		}
		s.stallBody(tc)
	}
	<-s.done
}

func (s *Server) tlsServer(conn net.Conn) *tls.Conn {
	return tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{s.cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12})
}

// drain reads whatever comes, answering nothing.
func (s *Server) drain(conn net.Conn) {
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
}

// stallBody reads one request and starts an answer it never finishes.
func (s *Server) stallBody(conn net.Conn) {
	if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
		return
	}
	_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[\"v1", 1<<20)
}

// SelfSigned makes a certificate for 127.0.0.1 and localhost, for a test
// server of another kind (gRPC) that should misbehave later than TLS.
func SelfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "netxtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// New starts a server for a test, failing it when the server cannot start,
// and closes it when the test ends.
func New(t testing.TB, b Behaviour) *Server {
	t.Helper()
	s, err := Start(b)
	if err != nil {
		t.Fatalf("netxtest: start a server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// RequireLimit fails t unless err holds a *netx.PhaseError for host in
// phase whose limit ran out, and returns it for further checks.
func RequireLimit(t testing.TB, err error, host string, phase netx.Phase, limit netx.Limit) *netx.PhaseError {
	t.Helper()
	var pe *netx.PhaseError
	if !errors.As(err, &pe) {
		t.Fatalf("want a *netx.PhaseError, got %v", err)
	}
	if pe.Host != host || pe.Phase != phase || pe.Limit != limit {
		t.Fatalf("want host %s, phase %s, limit %s; got host %s, phase %s, limit %q: %v", host, phase, limit, pe.Host, pe.Phase, pe.Limit, err)
	}
	return pe
}
