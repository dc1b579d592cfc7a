package factorysim

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wdiazux/infra/lib/diskimage"
	"github.com/wdiazux/infra/lib/talosfactory"
)

// Server is the stand-in factory.
type Server struct {
	srv        *httptest.Server
	mu         sync.Mutex
	versions   []string
	extensions []string
	payload    int
	schematics map[string][]byte
	images     map[string][]byte // "id/version" → image
	faults     []fault
	served     int64
	requests   []string
}

type fault struct {
	method, prefix string
	status         int
	body           string
}

// Option configures a Server.
type Option func(*Server)

// WithVersions sets the Talos versions offered.
func WithVersions(v ...string) Option { return func(s *Server) { s.versions = v } }

// WithPayload makes every image carry n bytes of data, so it is n bytes
// bigger (for progress bars and transfer timing); default 1 MiB.
func WithPayload(n int) Option { return func(s *Server) { s.payload = n } }

// DefaultVersions are the Talos releases offered by default.
func DefaultVersions() []string {
	return []string{"v1.10.6", "v1.11.3", "v1.11.5", "v1.12.0", "v1.12.4", "v1.12.6", "v1.12.7", "v1.13.0"}
}

// DefaultExtensions are the official extensions offered by default.
func DefaultExtensions() []string {
	return []string{
		"siderolabs/amd-ucode", "siderolabs/intel-ucode", "siderolabs/iscsi-tools", "siderolabs/nfsd",
		"siderolabs/nonfree-kmod-nvidia-lts", "siderolabs/nonfree-kmod-nvidia-production",
		"siderolabs/nvidia-container-toolkit-lts", "siderolabs/nvidia-container-toolkit-production",
		"siderolabs/qemu-guest-agent", "siderolabs/tailscale", "siderolabs/util-linux-tools", "siderolabs/zfs",
	}
}

// New starts the stand-in on a loopback port.
func New(opts ...Option) *Server {
	s := &Server{versions: DefaultVersions(), extensions: DefaultExtensions(), payload: 1 << 20,
		schematics: map[string][]byte{}, images: map[string][]byte{}}
	for _, opt := range opts {
		opt(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the factory's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// FailNext answers the next request with method whose path starts with
// prefix with status and body.
func (s *Server) FailNext(method, prefix string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{method, prefix, status, body})
}

// ReplaceImage makes the factory serve other bytes for a schematic and
// version from now on, as if it had rebuilt the image.
func (s *Server) ReplaceImage(schematicID, version string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images[schematicID+"/"+version] = data
}

// Image returns the bytes served for a schematic and version.
func (s *Server) Image(schematicID, version string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.image(schematicID, version)
}

// ImageBytesServed counts the bytes of image bodies sent so far.
func (s *Server) ImageBytesServed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

// Requests lists "METHOD path" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// image builds (once) the image of a schematic and version: a 1 GiB qcow2
// whose payload is derived from both, so different inputs differ and the
// same inputs give the same bytes. Caller holds the lock.
func (s *Server) image(id, version string) []byte {
	key := id + "/" + version
	if img, ok := s.images[key]; ok {
		return img
	}
	seed := sha256.Sum256([]byte(key))
	payload := bytes.Repeat(seed[:], s.payload/len(seed)+1)[:s.payload]
	var buf bytes.Buffer
	if _, err := diskimage.WriteQCOW2(&buf, 1<<30, payload); err != nil {
		panic(fmt.Sprintf("factorysim: %v", err))
	}
	s.images[key] = buf.Bytes()
	return s.images[key]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	for i, f := range s.faults {
		if f.method == r.Method && strings.HasPrefix(r.URL.Path, f.prefix) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			s.mu.Unlock()
			http.Error(w, f.body, f.status)
			return
		}
	}
	s.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/versions":
		s.json(w, s.versionsCopy())
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "version" && parts[2] == "extensions" && parts[3] == "official":
		s.officialExtensions(w, parts[1])
	case r.Method == http.MethodPost && r.URL.Path == "/schematics":
		s.createSchematic(w, r)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "schematics":
		s.mu.Lock()
		body, ok := s.schematics[parts[1]]
		s.mu.Unlock()
		if !ok {
			http.Error(w, "schematic not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(body)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && len(parts) == 4 && parts[0] == "image":
		s.serveImage(w, r, parts[1], parts[2], parts[3])
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) versionsCopy() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.versions)
}

func (s *Server) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) officialExtensions(w http.ResponseWriter, version string) {
	if !slices.Contains(s.versionsCopy(), version) {
		http.Error(w, "version not found", http.StatusNotFound)
		return
	}
	var out []talosfactory.Extension
	for _, name := range s.extensions {
		out = append(out, talosfactory.Extension{Name: name, Ref: "ghcr.io/" + name + ":" + version, Author: "Sidero Labs",
			Digest: fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(name+version)))})
	}
	s.json(w, out)
}

func (s *Server) createSchematic(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sch, err := talosfactory.UnmarshalSchematic(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, err := sch.ID()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	canonical, _ := sch.Marshal()
	s.mu.Lock()
	s.schematics[id] = canonical
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
}

func (s *Server) serveImage(w http.ResponseWriter, r *http.Request, id, version, file string) {
	s.mu.Lock()
	_, known := s.schematics[id]
	offered := slices.Contains(s.versions, version)
	var img []byte
	if known && offered && file == talosfactory.NoCloudImage {
		img = s.image(id, version)
	}
	s.mu.Unlock()
	if img == nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(&countingWriter{ResponseWriter: w, s: s}, r, file, time.Time{}, bytes.NewReader(img))
}

// countingWriter counts the image bytes written. It counts before it
// writes, so a client that has read a byte always finds it counted; a
// short write takes back what was not sent.
type countingWriter struct {
	http.ResponseWriter
	s *Server
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.s.add(int64(len(p)))
	n, err := c.ResponseWriter.Write(p)
	if n < len(p) {
		c.s.add(int64(n - len(p)))
	}
	return n, err
}

func (s *Server) add(n int64) {
	s.mu.Lock()
	s.served += n
	s.mu.Unlock()
}
