package helmdeploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/wdiazux/infra/lib/netx"
)

// ociRegistry serves one chart archive as an OCI artifact the way a
// registry does (manifest by tag, blobs by digest), over plain HTTP; with
// corrupt, the chart blob served differs from its digest.
func ociRegistry(t *testing.T, repoPath, tag string, archive []byte, corrupt bool) string {
	t.Helper()
	digest := func(b []byte) string { s := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(s[:]) }
	config := []byte(`{"name":"demo","version":"0.1.0","apiVersion":"v2"}`)
	blobs := map[string][]byte{digest(config): config, digest(archive): archive}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": digest(config), "size": len(config)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": digest(archive), "size": len(archive)}},
	})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/v2/":
			w.WriteHeader(http.StatusOK)
		case p == "/v2/"+repoPath+"/manifests/"+tag || p == "/v2/"+repoPath+"/manifests/"+digest(manifest):
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", digest(manifest))
			w.Header().Set("Content-Length", strconv.Itoa(len(manifest)))
			if r.Method != http.MethodHead {
				_, _ = w.Write(manifest)
			}
		case strings.HasPrefix(p, "/v2/"+repoPath+"/blobs/"):
			b, ok := blobs[strings.TrimPrefix(p, "/v2/"+repoPath+"/blobs/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			if corrupt && len(b) == len(archive) {
				b = append([]byte{}, b...)
				b[len(b)-1] ^= 0xff
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestChartLoaderOCI(t *testing.T) {
	dir := testMirror(t)
	archive, err := os.ReadFile(filepath.Join(dir, "demo-0.1.0.tgz"))
	require.NoError(t, err)
	ref := func(host string) ChartRef {
		return ChartRef{Repository: "oci://" + host + "/charts", Name: "demo", Version: "0.1.0"}
	}
	newLoader := func(host string) *chartLoader {
		return &chartLoader{client: netx.NewClient(netx.DefaultTimeouts()), cacheDir: t.TempDir(), plainHTTP: []string{host}, indexes: map[string]*repo.IndexFile{}}
	}
	t.Run("a chart pulled from an OCI registry", func(t *testing.T) {
		host := ociRegistry(t, "charts/demo", "0.1.0", archive, false)
		ch, err := newLoader(host).load(context.Background(), ref(host))
		require.NoError(t, err)
		require.Equal(t, "demo", ch.Name())
	})
	t.Run("a blob that does not match its digest is refused", func(t *testing.T) {
		host := ociRegistry(t, "charts/demo", "0.1.0", archive, true)
		_, err := newLoader(host).load(context.Background(), ref(host))
		var rerr *RepositoryError
		require.ErrorAs(t, err, &rerr, "%v", err)
		require.Equal(t, host, rerr.Host)
		require.Equal(t, "pull", rerr.Phase)
		require.Contains(t, err.Error(), "digest")
	})
}
