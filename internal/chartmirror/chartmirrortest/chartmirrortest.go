package chartmirrortest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/chartmirror"
)

// Upstream serves the chart repository in charts over loopback (chartsURL),
// and Cilium's CRD files at tag v<ciliumVersion> under crdURL as Cilium's
// source repository would, split from the crds/cilium-l2-lb.yaml of the
// offline chart repository offline, until the test ends.
func Upstream(t testing.TB, charts, offline, ciliumVersion string) (chartsURL, crdURL string) {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(charts)))
	t.Cleanup(srv.Close)
	data, err := os.ReadFile(filepath.Join(offline, filepath.FromSlash(chartmirror.CRDFile)))
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		for i, name := range chartmirror.CiliumCRDNames {
			if bytes.Contains(doc, []byte("\n  name: "+name+"\n")) {
				files["/v"+ciliumVersion+"/"+chartmirror.CiliumCRDFiles[i]] = doc
			}
		}
	}
	require.Len(t, files, len(chartmirror.CiliumCRDFiles), "each CRD is in %s", chartmirror.CRDFile)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(doc)
	}))
	t.Cleanup(src.Close)
	return srv.URL, src.URL
}
