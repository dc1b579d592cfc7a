package helmdeploy

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/wdiazux/infra/lib/netx"
)

// servedMirror serves a copy of the test mirror, counting requests.
func servedMirror(t *testing.T, corrupt bool) (string, *atomic.Int32) {
	t.Helper()
	dir := testMirror(t)
	if corrupt {
		tgz := filepath.Join(dir, "demo-0.1.0.tgz")
		data, err := os.ReadFile(tgz)
		require.NoError(t, err)
		data[len(data)-1] ^= 0xff
		require.NoError(t, os.WriteFile(tgz, data, 0o644))
	}
	var hits atomic.Int32
	fs := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); fs.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	return srv.URL, &hits
}

func TestChartLoader(t *testing.T) {
	ctx := context.Background()
	ref := ChartRef{Repository: "oci://registry.invalid/charts", Name: "demo", Version: "0.1.0"}
	newLoader := func(mirror, cache string) *chartLoader {
		return &chartLoader{client: netx.NewClient(netx.DefaultTimeouts()), cacheDir: cache, mirror: mirror, indexes: map[string]*repo.IndexFile{}}
	}
	t.Run("a mirror URL serves an OCI chart by name and version, then the cache does", func(t *testing.T) {
		url, hits := servedMirror(t, false)
		cache := t.TempDir()
		ch, err := newLoader(url, cache).load(ctx, ref)
		require.NoError(t, err)
		require.Equal(t, "demo", ch.Name())
		require.Equal(t, int32(2), hits.Load(), "index and archive")
		_, err = newLoader(url, cache).load(ctx, ref)
		require.NoError(t, err)
		require.Equal(t, int32(2), hits.Load(), "the cached archive needs no request")
	})
	t.Run("a plain repository URL", func(t *testing.T) {
		url, _ := servedMirror(t, false)
		ch, err := newLoader("", t.TempDir()).load(ctx, ChartRef{Repository: url, Name: "demo", Version: "0.1.0"})
		require.NoError(t, err)
		require.Equal(t, "0.1.0", ch.Metadata.Version)
	})
	t.Run("an archive whose digest differs from the index is refused", func(t *testing.T) {
		url, _ := servedMirror(t, true)
		_, err := newLoader(url, t.TempDir()).load(ctx, ref)
		var rerr *RepositoryError
		require.ErrorAs(t, err, &rerr)
		require.Equal(t, "digest", rerr.Phase)
		require.Equal(t, strings.TrimPrefix(url, "http://"), rerr.Host)
	})
	t.Run("a version the mirror lacks", func(t *testing.T) {
		url, _ := servedMirror(t, false)
		_, err := newLoader(url, t.TempDir()).load(ctx, ChartRef{Repository: "https://x.invalid", Name: "demo", Version: "2.0.0"})
		var nf *ChartNotFoundError
		require.ErrorAs(t, err, &nf)
		require.Equal(t, url, nf.Source)
		require.Contains(t, err.Error(), "chart demo version 2.0.0 is not in "+url+" (it holds versions 0.1.0)")
	})
	t.Run("a closed port names the host and the dial phase", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		_, err = newLoader("http://"+addr, t.TempDir()).load(ctx, ref)
		var rerr *RepositoryError
		require.ErrorAs(t, err, &rerr)
		require.Equal(t, addr, rerr.Host)
		require.Equal(t, "dial", rerr.Phase)
		require.Contains(t, err.Error(), "chart repository "+addr+": dial of http://"+addr+"/index.yaml")
	})
	t.Run("a missing mirror folder", func(t *testing.T) {
		_, err := newLoader(filepath.Join(t.TempDir(), "none"), t.TempDir()).load(ctx, ref)
		var rerr *RepositoryError
		require.ErrorAs(t, err, &rerr)
		require.Equal(t, "index", rerr.Phase)
	})
}

// TestFetch downloads a chart archive without a cluster: from its
// repository's index (the digest checked), then from the cache; a version
// the repository does not hold is a *ChartNotFoundError.
func TestFetch(t *testing.T) {
	url, hits := servedMirror(t, false)
	cache := t.TempDir()
	ref := ChartRef{Repository: url, Name: "demo", Version: "0.1.0"}
	data, ch, err := Fetch(t.Context(), ref, WithCacheDir(cache))
	require.NoError(t, err)
	require.Equal(t, "demo", ch.Metadata.Name)
	want, err := os.ReadFile(filepath.Join(testMirror(t), "demo-0.1.0.tgz"))
	require.NoError(t, err)
	require.Equal(t, want, data, "the archive as the repository serves it")
	served := hits.Load()
	again, _, err := Fetch(t.Context(), ref, WithCacheDir(cache))
	require.NoError(t, err)
	require.Equal(t, data, again)
	require.Equal(t, served, hits.Load(), "the second fetch is served by the cache")

	_, _, err = Fetch(t.Context(), ChartRef{Repository: url, Name: "demo", Version: "9.9.9"}, WithCacheDir(cache))
	var nf *ChartNotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "9.9.9", nf.Version)

	url, _ = servedMirror(t, true)
	_, _, err = Fetch(t.Context(), ChartRef{Repository: url, Name: "demo", Version: "0.1.0"}, WithCacheDir(t.TempDir()))
	require.ErrorContains(t, err, "the archive or the index is corrupt or was replaced")
}
