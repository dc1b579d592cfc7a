package images_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/cloudimage"
	"github.com/wdiazux/infra/lib/diskimage"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/proxmox"
)

// site is a loopback stand-in for the distributions' download sites and a
// fake of lib/cloudimage's Resolver over it (the images.Sources the
// imports use), for the tests of the import's own logic, which choose what
// the resolver answers (cloud_distsim_test.go runs the imports against
// internal/distsim through the real resolver and VMA stage): it serves each build's image
// (a small qcow2; NixOS: opaque bytes the fake VMA stage wraps), resolves
// builds with the publisher's checksum, and refuses as the real resolver
// does when told to. rate limits each connection's bytes per second.
type site struct {
	srv  *httptest.Server
	rate int64

	mu     sync.Mutex
	builds map[string][]siteBuild // by OS, oldest first
	fail   map[string]error       // by OS: Latest and Build return it
	calls  []string               // resolver calls: "latest ubuntu", "build ubuntu 20261101", "open nixos …"
}

type siteBuild struct {
	b    images.CloudBuild
	data []byte
}

var siteReleases = map[string]string{"ubuntu": "24.04", "debian": "13", "arch": "rolling", "nixos": "25.11"}

// newSite starts the site with one build of every OS, payload bytes each.
func newSite(t testing.TB, payload int, rate int64) *site {
	t.Helper()
	s := &site{builds: map[string][]siteBuild{}, fail: map[string]error{}, rate: rate}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	for _, os := range images.CloudOSes() {
		s.publish(t, os, "20261101", payload)
	}
	return s
}

// publish adds a newer build of os.
func (s *site) publish(t testing.TB, os, serial string, payload int) images.CloudBuild {
	t.Helper()
	rel := siteReleases[os]
	data := bytes.Repeat([]byte(os+serial), payload/len(os+serial)+1)[:payload]
	file, format, alg := map[string]string{
		"ubuntu": "noble-server-cloudimg-amd64.img",
		"debian": "debian-13-genericcloud-amd64-" + serial + ".qcow2",
		"arch":   "Arch-Linux-x86_64-cloudimg-" + serial + ".qcow2",
		"nixos":  "nixos-25.11." + serial + "-x86_64-linux.vma.zst",
	}[os], "qcow2", "sha256"
	if os == "nixos" {
		format = "vma.zst"
	} else {
		var buf bytes.Buffer
		_, err := diskimage.WriteQCOW2(&buf, 1<<30, data)
		require.NoError(t, err)
		data = buf.Bytes()
	}
	var sum string
	if os == "debian" {
		alg = "sha512"
		h := sha512.Sum512(data)
		sum = hex.EncodeToString(h[:])
	} else {
		h := sha256.Sum256(data)
		sum = hex.EncodeToString(h[:])
	}
	b := images.CloudBuild{OS: os, Release: rel, Serial: serial, URL: fmt.Sprintf("%s/%s/%s/%s", s.srv.URL, os, serial, file), File: file,
		Format: format, Checksum: sum, Algorithm: alg, ChecksumURL: fmt.Sprintf("%s/%s/%s/%sSUMS", s.srv.URL, os, serial, strings.ToUpper(alg)),
		SignedBy: "0123456789ABCDEF0123456789ABCDEF01234567"}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.builds[os] = append(s.builds[os], siteBuild{b: b, data: data})
	return b
}

// failWith makes Latest and Build of os return err (nil: succeed again).
func (s *site) failWith(os string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[os] = err
}

// resolverCalls are the calls the imports made to the publisher.
func (s *site) resolverCalls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *site) Latest(ctx context.Context, os, release string) (images.CloudBuild, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "latest "+os)
	if err := s.fail[os]; err != nil {
		return images.CloudBuild{}, fmt.Errorf("%s %s: %w", os, release, err)
	}
	bs := s.builds[os]
	if len(bs) == 0 || bs[0].b.Release != release {
		return images.CloudBuild{}, fmt.Errorf("%s %s: unknown release", os, release)
	}
	return bs[len(bs)-1].b, nil
}

func (s *site) Build(ctx context.Context, os, release, serial string) (images.CloudBuild, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "build "+os+" "+serial)
	if err := s.fail[os]; err != nil {
		return images.CloudBuild{}, fmt.Errorf("%s %s build %s: %w", os, release, serial, err)
	}
	for _, b := range s.builds[os] {
		if b.b.Serial == serial && b.b.Release == release {
			return b.b, nil
		}
	}
	return images.CloudBuild{}, fmt.Errorf("%s %s build %s: %w", os, release, serial, cloudimage.ErrMissingEntry)
}

func (s *site) Open(ctx context.Context, b images.CloudBuild) (io.ReadCloser, error) {
	s.mu.Lock()
	s.calls = append(s.calls, "open "+b.OS+" "+b.Serial)
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.URL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", b.URL, resp.Status)
	}
	return resp.Body, nil
}

// serve answers GET /<os>/<serial>/<file> at the site's rate.
func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	var data []byte
	s.mu.Lock()
	if len(parts) == 3 {
		for _, b := range s.builds[parts[0]] {
			if b.b.Serial == parts[1] && b.b.File == parts[2] {
				data = b.data
			}
		}
	}
	s.mu.Unlock()
	if data == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	if s.rate <= 0 {
		_, _ = w.Write(data)
		return
	}
	// 20 slices a second, each rate/20 bytes.
	chunk := max(int(s.rate/20), 1)
	for len(data) > 0 {
		n := min(chunk, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return
		}
		data = data[n:]
		select {
		case <-r.Context().Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fakeVMAStage stands in for lib/images' VMA stage: it wraps the stream's
// bytes in a qcow2 and uploads it with its sha256, as the real one does.
func fakeVMAStage(ctx context.Context, up images.Uploader, node, storage, file string, src io.Reader) (string, error) {
	data, err := io.ReadAll(src)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := diskimage.WriteQCOW2(&buf, 1<<30, data); err != nil {
		return "", err
	}
	h := sha256.Sum256(buf.Bytes())
	sum := hex.EncodeToString(h[:])
	_, err = up.Upload(ctx, proxmox.UploadRequest{Node: node, Storage: storage, Content: "import", Filename: file,
		Body: bytes.NewReader(buf.Bytes()), Size: int64(buf.Len()), Checksum: sum, ChecksumAlgorithm: "sha256"}, nil)
	return sum, err
}
