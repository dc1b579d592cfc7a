package chartmirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	repo "helm.sh/helm/v4/pkg/repo/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
)

// DefaultCRDSource is where Cilium's source files are read from: a file is
// <source>/v<version>/<path>.
const DefaultCRDSource = "https://raw.githubusercontent.com/cilium/cilium"

// CiliumCRDFiles are the paths, in Cilium's source, of the CRDs of
// CiliumLoadBalancerIPPool (cilium.io/v2) and CiliumL2AnnouncementPolicy
// (cilium.io/v2alpha1).
var CiliumCRDFiles = [2]string{
	"pkg/k8s/apis/cilium.io/client/crds/v2/ciliumloadbalancerippools.yaml",
	"pkg/k8s/apis/cilium.io/client/crds/v2alpha1/ciliuml2announcementpolicies.yaml",
}

// CiliumCRDNames are the CRDs CiliumCRDFiles hold, in the same order.
var CiliumCRDNames = [2]string{"ciliumloadbalancerippools.cilium.io", "ciliuml2announcementpolicies.cilium.io"}

// CRDFile is the CRD file's path inside the mirror.
const CRDFile = "crds/cilium-l2-lb.yaml"

// ciliumChart is the inventory's key of the Cilium chart.
const ciliumChart = "cilium"

// Option configures Build.
type Option func(*options)

type options struct {
	chartOpts []helmdeploy.Option
	crdSource string
	client    *http.Client
}

// WithChartOptions passes options to the chart downloads
// (helmdeploy.Fetch): a cache folder, a mirror, the HTTP client,
// plain-HTTP registries.
func WithChartOptions(opts ...helmdeploy.Option) Option {
	return func(o *options) { o.chartOpts = append(o.chartOpts, opts...) }
}

// WithCRDSource reads Cilium's CRD files from base instead of
// DefaultCRDSource (a mirror of Cilium's source, or a test server).
func WithCRDSource(base string) Option { return func(o *options) { o.crdSource = base } }

// WithHTTPClient sets the client of the CRD download (default:
// netx.NewClient(netx.DefaultTimeouts())).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// Chart is one chart Build put in the mirror.
type Chart struct {
	// Name is the chart's key in the inventory.
	Name string
	// Chart and Version are the chart and the version the inventory pins.
	Chart, Version string
	// File is the archive's name in the mirror.
	File string
	// From is the repository it came from.
	From string
}

// Result is what Build wrote.
type Result struct {
	// Dir is the mirror.
	Dir string
	// Charts are the charts, in the inventory's sorted order.
	Charts []Chart
	// CRDs is the path of the Cilium CRD file.
	CRDs string
	// CiliumVersion is the Cilium version the CRDs are from.
	CiliumVersion string
}

// Build downloads every chart of inv's kubernetes.charts and Cilium's
// L2/LB CRDs into dir, replacing it whole once everything is there; on an
// error dir is left as it was.
func Build(ctx context.Context, inv *inventory.Inventory, dir string, opts ...Option) (*Result, error) {
	o := options{crdSource: DefaultCRDSource}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		o.client = netx.NewClient(netx.DefaultTimeouts())
	}
	if _, ok := inv.Kubernetes.Charts[ciliumChart]; !ok {
		return nil, errors.New("chart mirror: kubernetes.charts has no cilium chart, so the version of Cilium's CRDs is unknown: add it to the inventory")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("chart mirror %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".part-")
	if err != nil {
		return nil, fmt.Errorf("chart mirror %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	res, err := build(ctx, inv, tmp, o)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("chart mirror %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("chart mirror: replace %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("chart mirror: replace %s: %w", dir, err)
	}
	res.Dir = dir
	res.CRDs = filepath.Join(dir, filepath.FromSlash(CRDFile))
	return res, nil
}

// build writes the mirror into dir.
func build(ctx context.Context, inv *inventory.Inventory, dir string, o options) (*Result, error) {
	res := &Result{}
	idx := repo.NewIndexFile()
	for _, name := range inv.ChartNames() {
		c := inv.Kubernetes.Charts[name]
		data, ch, err := helmdeploy.Fetch(ctx, helmdeploy.ChartRef{Repository: c.Repository, Name: c.Chart, Version: c.Version}, o.chartOpts...)
		if err != nil {
			return nil, fmt.Errorf("chart mirror: kubernetes.charts.%s (%s %s from %s): %w", name, c.Chart, c.Version, c.Repository, err)
		}
		// The tests open <chart>-<version>.tgz, the version without a "v".
		file := c.Chart + "-" + strings.TrimPrefix(ch.Metadata.Version, "v") + ".tgz"
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			return nil, fmt.Errorf("chart mirror: %w", err)
		}
		sum := sha256.Sum256(data)
		if err := idx.MustAdd(ch.Metadata, file, "", "sha256:"+hex.EncodeToString(sum[:])); err != nil {
			return nil, fmt.Errorf("chart mirror: kubernetes.charts.%s: index entry: %w", name, err)
		}
		res.Charts = append(res.Charts, Chart{Name: name, Chart: c.Chart, Version: c.Version, File: file, From: c.Repository})
		if name == ciliumChart {
			res.CiliumVersion = strings.TrimPrefix(ch.Metadata.AppVersion, "v")
			if res.CiliumVersion == "" {
				res.CiliumVersion = strings.TrimPrefix(ch.Metadata.Version, "v")
			}
		}
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		return nil, fmt.Errorf("chart mirror: index.yaml: %w", err)
	}
	crds, err := ciliumCRDs(ctx, o, res.CiliumVersion)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "crds"), 0o755); err != nil {
		return nil, fmt.Errorf("chart mirror: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(CRDFile)), crds, 0o644); err != nil {
		return nil, fmt.Errorf("chart mirror: %w", err)
	}
	return res, nil
}

// ciliumCRDs downloads CiliumCRDFiles at version and joins them into one
// YAML stream, each checked to be the CRD it should be.
func ciliumCRDs(ctx context.Context, o options, version string) ([]byte, error) {
	var out bytes.Buffer
	fmt.Fprintf(&out, "# Cilium %s's CRDs for L2 load balancing, as its source has them (the chart ships\n# no CRDs: the operator creates them at start-up). Written by the chart mirror.\n", version)
	for i, path := range CiliumCRDFiles {
		url := strings.TrimSuffix(o.crdSource, "/") + "/v" + version + "/" + path
		data, err := get(ctx, o.client, url)
		if err != nil {
			return nil, fmt.Errorf("chart mirror: Cilium %s's CRD %s: %w; give a mirror of Cilium's source with WithCRDSource", version, path, err)
		}
		if err := isCRD(data, CiliumCRDNames[i]); err != nil {
			return nil, fmt.Errorf("chart mirror: Cilium %s's CRD file %s: %w", version, url, err)
		}
		out.WriteString("---\n")
		out.Write(bytes.TrimPrefix(bytes.TrimSpace(data), []byte("---\n")))
		out.WriteString("\n")
	}
	return out.Bytes(), nil
}

// get fetches url.
func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %s", url, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: body: %w", url, err)
	}
	return data, nil
}

// isCRD checks that data is one CustomResourceDefinition named name.
func isCRD(data []byte, name string) error {
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096).Decode(&doc); err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	if doc.APIVersion != "apiextensions.k8s.io/v1" || doc.Kind != "CustomResourceDefinition" || doc.Metadata.Name != name {
		return fmt.Errorf("holds %s %s %q, not the apiextensions.k8s.io/v1 CustomResourceDefinition %q", doc.APIVersion, doc.Kind, doc.Metadata.Name, name)
	}
	return nil
}
