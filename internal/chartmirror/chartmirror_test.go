package chartmirror_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/wdiazux/infra/internal/chartmirror"
	"github.com/wdiazux/infra/internal/chartmirror/chartmirrortest"
	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
)

const root = "../.."

// sharedCharts is the offline chart repository the other tests use; in CI
// it is required.
func sharedCharts(t *testing.T) string {
	t.Helper()
	charts, ok := kubetest.ChartsDir(root)
	if !ok {
		if testtool.InCI() {
			t.Fatalf("no offline chart repository above %s (or in $%s): CI must provide it", root, kubetest.EnvCharts)
		}
		t.Skipf("no offline chart repository above %s: nothing to serve as the charts' repositories", root)
	}
	return charts
}

// inventoryFrom is the repository's inventory with every chart's
// repository at url; Forgejo's chart (an OCI registry the offline
// repository does not hold) is left out.
func inventoryFrom(t *testing.T, url string) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(filepath.Join(root, "homelab.yaml"))
	require.NoError(t, err)
	delete(inv.Kubernetes.Charts, "forgejo")
	for name, c := range inv.Kubernetes.Charts {
		c.Repository = url
		inv.Kubernetes.Charts[name] = c
	}
	return inv
}

// TestBuild fills a folder from loopback repositories and checks it is
// what the tests need: a Helm repository holding every pinned chart,
// byte for byte as served, under the names the tests open, and the
// Cilium L2/LB CRDs; kubetest.ChartsDir finds it through INFRA_TEST_CHARTS.
func TestBuild(t *testing.T) {
	charts := sharedCharts(t)
	inv := inventoryFrom(t, "")
	chartsURL, crdURL := chartmirrortest.Upstream(t, charts, charts, strings.TrimPrefix(inv.Kubernetes.Charts["cilium"].Version, "v"))
	inv = inventoryFrom(t, chartsURL)
	dir := filepath.Join(t.TempDir(), "mirror")

	res, err := chartmirror.Build(t.Context(), inv, dir, chartmirror.WithCRDSource(crdURL), chartmirror.WithChartOptions(helmdeploy.WithCacheDir(t.TempDir())))
	require.NoError(t, err)
	require.Equal(t, dir, res.Dir)
	require.Len(t, res.Charts, len(inv.Kubernetes.Charts))
	for _, name := range inv.ChartNames() {
		c := inv.Kubernetes.Charts[name]
		file := c.Chart + "-" + strings.TrimPrefix(c.Version, "v") + ".tgz"
		want, err := os.ReadFile(filepath.Join(charts, file))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, file))
		require.NoError(t, err, "%s: the tests open %s", name, file)
		require.Equal(t, want, got, "%s: the archive as its repository serves it", name)
		// The folder is a Helm repository: the deployer finds the chart in it.
		_, ch, err := helmdeploy.Fetch(t.Context(), helmdeploy.ChartRef{Repository: "oci://registry.invalid/x", Name: c.Chart, Version: c.Version},
			helmdeploy.WithMirror(dir), helmdeploy.WithCacheDir(t.TempDir()))
		require.NoError(t, err, name)
		require.Equal(t, c.Chart, ch.Metadata.Name)
	}

	crds, err := os.ReadFile(filepath.Join(dir, "crds", "cilium-l2-lb.yaml"))
	require.NoError(t, err)
	var names []string
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(crds), 4096)
	for {
		var doc struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc.Kind != "" {
			require.Equal(t, "CustomResourceDefinition", doc.Kind)
			names = append(names, doc.Metadata.Name)
		}
	}
	require.Equal(t, []string{"ciliumloadbalancerippools.cilium.io", "ciliuml2announcementpolicies.cilium.io"}, names)
	require.Equal(t, filepath.Join(dir, "crds", "cilium-l2-lb.yaml"), res.CRDs)

	t.Setenv(kubetest.EnvCharts, dir)
	found, ok := kubetest.ChartsDir(t.TempDir())
	require.True(t, ok, "INFRA_TEST_CHARTS names the mirror")
	require.Equal(t, dir, found)

	// A second build replaces the folder whole.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stale.tgz"), []byte("x"), 0o644))
	_, err = chartmirror.Build(t.Context(), inv, dir, chartmirror.WithCRDSource(crdURL), chartmirror.WithChartOptions(helmdeploy.WithCacheDir(t.TempDir())))
	require.NoError(t, err)
	require.NoFileExists(t, filepath.Join(dir, "stale.tgz"))
}

// TestBuildErrors: a chart its repository lacks, missing CRDs and an
// inventory without Cilium are refused, naming what and where, and the
// folder is left as it was.
func TestBuildErrors(t *testing.T) {
	charts := sharedCharts(t)
	inv := inventoryFrom(t, "")
	chartsURL, crdURL := chartmirrortest.Upstream(t, charts, charts, strings.TrimPrefix(inv.Kubernetes.Charts["cilium"].Version, "v"))
	tests := []struct {
		name   string
		change func(inv *inventory.Inventory)
		crd    string
		want   []string
	}{
		{"a chart version the repository lacks", func(inv *inventory.Inventory) {
			c := inv.Kubernetes.Charts["longhorn"]
			c.Version = "9.9.9"
			inv.Kubernetes.Charts["longhorn"] = c
		}, crdURL, []string{"kubernetes.charts.longhorn", "longhorn 9.9.9", chartsURL}},
		{"no CRDs at the source", nil, crdURL + "/elsewhere", []string{"Cilium 1.19.5's CRD", "ciliumloadbalancerippools.yaml", "HTTP 404", "WithCRDSource"}},
		{"no cilium chart", func(inv *inventory.Inventory) { delete(inv.Kubernetes.Charts, "cilium") }, crdURL, []string{"kubernetes.charts has no cilium chart"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := inventoryFrom(t, chartsURL)
			if tt.change != nil {
				tt.change(inv)
			}
			dir := filepath.Join(t.TempDir(), "mirror")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "index.yaml"), []byte("old\n"), 0o644))
			_, err := chartmirror.Build(t.Context(), inv, dir, chartmirror.WithCRDSource(tt.crd), chartmirror.WithChartOptions(helmdeploy.WithCacheDir(t.TempDir())))
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			got, err := os.ReadFile(filepath.Join(dir, "index.yaml"))
			require.NoError(t, err)
			require.Equal(t, "old\n", string(got), "a failed build leaves the folder alone")
			entries, err := os.ReadDir(filepath.Dir(dir))
			require.NoError(t, err)
			require.Len(t, entries, 1, "no half-built folder is left beside it")
		})
	}
}
