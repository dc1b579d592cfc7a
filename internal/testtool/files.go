package testtool

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wdiazux/infra/lib/diskimage"
)

// ServeFiles serves files by name on a loopback HTTP server for the test's
// lifetime, with Content-Length and range support, like an image mirror.
// The map may be changed between requests by the test goroutine.
func ServeFiles(t testing.TB, files map[string][]byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, r.URL.Path, time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// QCOW2 returns a valid qcow2 image of the given virtual size whose disk
// starts with payload, written with the options (e.g. an external data file).
func QCOW2(t testing.TB, virtualSize int64, payload []byte, opts ...diskimage.QCOW2Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := diskimage.WriteQCOW2(&buf, virtualSize, payload, opts...); err != nil {
		t.Fatalf("write qcow2: %v", err)
	}
	return buf.Bytes()
}
