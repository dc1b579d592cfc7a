package helmdeploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/Masterminds/semver/v3"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wdiazux/infra/lib/netx"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// chartLoader finds chart archives in repositories, OCI registries or a
// mirror, checks their digest and keeps them in a cache folder. One loader
// serves one Apply or Diff call: indexes are read once per call.
type chartLoader struct {
	client   *http.Client
	cacheDir string
	mirror   string
	// plainHTTP are the OCI registry hosts spoken to without TLS.
	plainHTTP []string
	indexes   map[string]*repo.IndexFile
}

func (d *Deployer) newChartLoader() *chartLoader { return loaderFor(d.opts) }

// loaderFor is a chart loader with the repository options of o.
func loaderFor(o options) *chartLoader {
	return &chartLoader{client: o.httpClient, cacheDir: o.cacheDir, mirror: o.mirror, plainHTTP: o.plainHTTP, indexes: map[string]*repo.IndexFile{}}
}

// load returns the chart ref names.
func (l *chartLoader) load(ctx context.Context, ref ChartRef) (*chart.Chart, error) {
	data, from, err := l.archive(ctx, ref)
	if err != nil {
		return nil, err
	}
	return loadArchive(data, ref, from)
}

// archive returns the archive of the chart ref names and where it came
// from, from the cache or else downloaded (and then cached).
func (l *chartLoader) archive(ctx context.Context, ref ChartRef) ([]byte, string, error) {
	source := ref.Repository
	if l.mirror != "" {
		source = l.mirror
	}
	cached := filepath.Join(l.cacheDir, cacheKey(source), ref.Name+"-"+ref.Version+".tgz")
	if data, err := os.ReadFile(cached); err == nil {
		return data, cached, nil
	}
	var data []byte
	var err error
	if l.mirror == "" && strings.HasPrefix(ref.Repository, "oci://") {
		data, err = l.pullOCI(ctx, ref)
	} else {
		data, err = l.fromIndex(ctx, source, ref)
	}
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		return nil, "", fmt.Errorf("chart cache %s: %w", l.cacheDir, err)
	}
	tmp := cached + ".part"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return nil, "", fmt.Errorf("chart cache %s: %w", l.cacheDir, err)
	}
	if err := os.Rename(tmp, cached); err != nil {
		return nil, "", fmt.Errorf("chart cache %s: %w", l.cacheDir, err)
	}
	return data, source, nil
}

// Fetch returns the archive (.tgz) of the chart ref pins and the chart it
// holds, downloaded from its repository (index.yaml, the archive's digest
// checked against it), its OCI registry, or the mirror of WithMirror, and
// kept in the cache of WithCacheDir; WithHTTPClient,
// WithPlainHTTPRegistries and WithRepositoryTimeouts apply. It needs no
// cluster (e.g. to fill a chart mirror). An archive that does not hold ref's
// chart and version is refused.
func Fetch(ctx context.Context, ref ChartRef, opts ...Option) ([]byte, *chart.Chart, error) {
	o, err := newOptions("helmdeploy.Fetch", opts)
	if err != nil {
		return nil, nil, err
	}
	data, from, err := loaderFor(o).archive(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	ch, err := loadArchive(data, ref, from)
	if err != nil {
		return nil, nil, err
	}
	return data, ch, nil
}

func loadArchive(data []byte, ref ChartRef, from string) (*chart.Chart, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chart %s %s from %s: not a chart archive: %w", ref.Name, ref.Version, from, err)
	}
	if ch.Metadata.Name != ref.Name || !sameVersion(ch.Metadata.Version, ref.Version) {
		return nil, fmt.Errorf("chart archive from %s holds %s %s, not %s %s", from, ch.Metadata.Name, ch.Metadata.Version, ref.Name, ref.Version)
	}
	return ch, nil
}

func cacheKey(source string) string {
	sum := sha256.Sum256([]byte(strings.TrimSuffix(source, "/")))
	return hex.EncodeToString(sum[:6])
}

// fromIndex finds ref in the index.yaml of source (a folder or an http(s)
// URL) and returns the archive, its digest checked.
func (l *chartLoader) fromIndex(ctx context.Context, source string, ref ChartRef) ([]byte, error) {
	idx, err := l.index(ctx, source)
	if err != nil {
		return nil, err
	}
	var available []string
	var cv *repo.ChartVersion
	for _, v := range idx.Entries[ref.Name] {
		available = append(available, v.Version)
		if sameVersion(v.Version, ref.Version) && cv == nil {
			cv = v
		}
	}
	if cv == nil || len(cv.URLs) == 0 {
		return nil, &ChartNotFoundError{Chart: ref.Name, Version: ref.Version, Source: source, Available: available}
	}
	loc, err := resolve(source, cv.URLs[0])
	if err != nil {
		return nil, &RepositoryError{Host: hostOf(source), Phase: "index", URL: cv.URLs[0], Err: err}
	}
	data, err := l.get(ctx, loc, "download")
	if err != nil {
		return nil, err
	}
	if cv.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != strings.TrimPrefix(cv.Digest, "sha256:") {
			return nil, &RepositoryError{Host: hostOf(loc), Phase: "digest", URL: loc, Err: fmt.Errorf("sha256 %s, the index says %s: the archive or the index is corrupt or was replaced", got, cv.Digest)}
		}
	}
	return data, nil
}

func (l *chartLoader) index(ctx context.Context, source string) (*repo.IndexFile, error) {
	if idx, ok := l.indexes[source]; ok {
		return idx, nil
	}
	loc, err := resolve(source, "index.yaml")
	if err != nil {
		return nil, &RepositoryError{Host: hostOf(source), Phase: "index", URL: source, Err: err}
	}
	data, err := l.get(ctx, loc, "index")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(l.cacheDir, cacheKey(source))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chart cache %s: %w", l.cacheDir, err)
	}
	file := filepath.Join(dir, "index.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, fmt.Errorf("chart cache %s: %w", l.cacheDir, err)
	}
	idx, err := repo.LoadIndexFile(file)
	if err != nil {
		return nil, &RepositoryError{Host: hostOf(loc), Phase: "index", URL: loc, Err: fmt.Errorf("not a chart repository index: %w", err)}
	}
	l.indexes[source] = idx
	return idx, nil
}

// resolve returns ref relative to base, a folder or URL.
func resolve(base, ref string) (string, error) {
	if u, err := url.Parse(ref); err == nil && u.Scheme != "" {
		return ref, nil
	}
	if !isURL(base) {
		return filepath.Join(base, filepath.FromSlash(ref)), nil
	}
	b, err := url.Parse(strings.TrimSuffix(base, "/") + "/")
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

func hostOf(loc string) string {
	if u, err := url.Parse(loc); err == nil && u.Host != "" {
		return u.Host
	}
	return loc
}

// get reads a file or fetches a URL; errors name the host and the phase.
func (l *chartLoader) get(ctx context.Context, loc, phase string) ([]byte, error) {
	if !isURL(loc) {
		data, err := os.ReadFile(loc)
		if err != nil {
			return nil, &RepositoryError{Host: filepath.Dir(loc), Phase: phase, URL: loc, Err: err}
		}
		return data, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, &RepositoryError{Host: hostOf(loc), Phase: phase, URL: loc, Err: err}
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, &RepositoryError{Host: hostOf(loc), Phase: netPhase(err, phase), URL: loc, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &RepositoryError{Host: hostOf(loc), Phase: phase, URL: loc, Err: fmt.Errorf("HTTP %s", resp.Status)}
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &RepositoryError{Host: hostOf(loc), Phase: phase + " body", URL: loc, Err: err}
	}
	return data, nil
}

// netPhase names the connection phase a transport error happened in.
func netPhase(err error, fallback string) string {
	var pe *netx.PhaseError
	var op *net.OpError
	var tlsErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &pe):
		return string(pe.Phase)
	case errors.As(err, &tlsErr), errors.As(err, &recErr), strings.Contains(err.Error(), "TLS handshake"):
		return "TLS handshake"
	case strings.Contains(err.Error(), "awaiting response headers"):
		return "response header"
	case errors.As(err, &op) && op.Op == "dial":
		return "dial"
	}
	return fallback
}

// pullOCI pulls oci://host/path/name:version.
func (l *chartLoader) pullOCI(_ context.Context, ref ChartRef) ([]byte, error) {
	loc := strings.TrimPrefix(strings.TrimSuffix(ref.Repository, "/"), "oci://") + "/" + ref.Name + ":" + ref.Version
	host := hostOf("oci://" + loc)
	ropts := []registry.ClientOption{registry.ClientOptHTTPClient(l.client), registry.ClientOptWriter(io.Discard)}
	if slices.Contains(l.plainHTTP, host) {
		ropts = append(ropts, registry.ClientOptPlainHTTP())
	}
	rc, err := registry.NewClient(ropts...)
	if err != nil {
		return nil, &RepositoryError{Host: host, Phase: "pull", URL: "oci://" + loc, Err: err}
	}
	res, err := rc.Pull(loc)
	if err != nil {
		return nil, &RepositoryError{Host: host, Phase: netPhase(err, "pull"), URL: "oci://" + loc, Err: err}
	}
	if res.Chart == nil || len(res.Chart.Data) == 0 {
		return nil, &RepositoryError{Host: host, Phase: "pull", URL: "oci://" + loc, Err: errors.New("no chart layer")}
	}
	// oras checks every blob against its descriptor's digest while pulling.
	return res.Chart.Data, nil
}

// sameVersion says two chart versions are the same: equal as semantic
// versions (a leading "v" aside, as Helm matches an index's versions: an
// index may list v4.12.1 or 4.12.1 for the same chart), else equal as text.
func sameVersion(a, b string) bool {
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return va.Equal(vb) && va.Metadata() == vb.Metadata()
}
