package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/wdiazux/infra/internal/testtool"
)

// Package is one API server shared by the tests of a test package: the
// first test that asks for it starts it, TestMain's Run stops it after the
// last. Tests stay independent by each working in its own namespace
// (Server.Namespace). The zero value starts the server with no options.
//
//	var kube kubetest.Package
//
//	func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }
//
//	func TestInstall(t *testing.T) {
//		srv := kube.Server(t)
//		ns := srv.Namespace(t)
//		...
//	}
type Package struct {
	// Options are passed to Start.
	Options []Option
	// StartTimeout bounds the start as a whole (default: 3 minutes).
	StartTimeout time.Duration

	once sync.Once
	mu   sync.Mutex
	srv  *Server
	err  error
}

// Server returns the package's server, starting it on first use. When
// kube-apiserver or etcd is not built, the test is skipped outside CI and
// fails in CI (CI=true), as internal/testtool does for every tool; a
// server that does not start fails the test with the program, the phase and
// its log's tail.
func (p *Package) Server(t testing.TB) *Server {
	t.Helper()
	p.once.Do(func() {
		timeout := p.StartTimeout
		if timeout == 0 {
			timeout = 3 * time.Minute
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		srv, err := Start(ctx, p.Options...)
		p.mu.Lock()
		p.srv, p.err = srv, err
		p.mu.Unlock()
	})
	p.mu.Lock()
	srv, err := p.srv, p.err
	p.mu.Unlock()
	switch {
	case errors.Is(err, ErrToolMissing) && !testtool.InCI():
		t.Skipf("%v", err)
	case errors.Is(err, ErrToolMissing):
		t.Fatalf("%v; in CI it is a failure, not a skip", err)
	case err != nil:
		t.Fatal(err)
	}
	return srv
}

// Run runs the package's tests (m.Run), then stops the server if a test
// started it, and returns the exit code for os.Exit: a server that does
// not stop cleanly fails the run.
func (p *Package) Run(m *testing.M) int {
	code := m.Run()
	p.mu.Lock()
	srv := p.srv
	p.mu.Unlock()
	if srv != nil {
		if err := srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "kubetest: stop the test API server: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Clientset returns a typed client of the server.
func (s *Server) Clientset() (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(s.Config())
}

// namespaceUnsafe are the characters a namespace name cannot hold.
var namespaceUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace creates a namespace of its own for the test, named after it
// (e.g. "t3-testinstall-upgrade"), and returns its name. It is not deleted
// afterwards: without kube-controller-manager's namespace controller a
// deleted namespace stays Terminating.
func (s *Server) Namespace(t testing.TB) string {
	t.Helper()
	s.nsMu.Lock()
	s.nsCount++
	n := s.nsCount
	s.nsMu.Unlock()
	name := fmt.Sprintf("t%d-%s", n, strings.Trim(namespaceUnsafe.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-"))
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	cs, err := s.Clientset()
	if err != nil {
		t.Fatalf("namespace for %s: %v", t.Name(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s for %s: %v", name, t.Name(), err)
	}
	return name
}
