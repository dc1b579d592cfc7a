package infra_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/wdiazux/infra/internal/chartmirror"
	"github.com/wdiazux/infra/internal/chartmirror/chartmirrortest"
	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/inventory"
)

// TestChartsMirrorTarget runs charts:mirror against a loopback chart
// repository (the offline one, plus a stand-in for Forgejo's chart, which
// it lacks) given with -from, and a loopback copy of Cilium's CRD files
// given with -crds: DIR becomes a chart repository holding every chart
// homelab.yaml pins, and the output says how to point the tests at it.
func TestChartsMirrorTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the Mage targets")
	}
	charts, ok := kubetest.ChartsDir(".")
	if !ok {
		if testtool.InCI() {
			t.Fatalf("no offline chart repository (shared/charts above the checkout, or $%s): CI must provide it", kubetest.EnvCharts)
		}
		t.Skip("no offline chart repository: nothing to serve as the charts' repositories")
	}
	inv, err := inventory.Load("homelab.yaml")
	require.NoError(t, err)
	served := t.TempDir()
	entries, err := os.ReadDir(charts)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tgz") || e.Name() == "index.yaml" {
			data, err := os.ReadFile(filepath.Join(charts, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(served, e.Name()), data, 0o644))
		}
	}
	forgejo := inv.Kubernetes.Charts["forgejo"]
	tgz, err := chartutil.Save(&chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: forgejo.Chart, Version: forgejo.Version}}, served)
	require.NoError(t, err)
	idx, err := repo.LoadIndexFile(filepath.Join(served, "index.yaml"))
	require.NoError(t, err)
	data, err := os.ReadFile(tgz)
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	require.NoError(t, idx.MustAdd(&chart.Metadata{APIVersion: chart.APIVersionV2, Name: forgejo.Chart, Version: forgejo.Version}, filepath.Base(tgz), "", "sha256:"+hex.EncodeToString(sum[:])))
	require.NoError(t, idx.WriteFile(filepath.Join(served, "index.yaml"), 0o644))
	chartsURL, crdURL := chartmirrortest.Upstream(t, served, charts, strings.TrimPrefix(inv.Kubernetes.Charts["cilium"].Version, "v"))

	dir := filepath.Join(t.TempDir(), "charts")
	out, code := mageEnv(t, nil, "charts:mirror", dir, "-from="+chartsURL, "-crds="+crdURL)
	require.Equal(t, 0, code, out)
	for _, name := range inv.ChartNames() {
		c := inv.Kubernetes.Charts[name]
		require.Regexp(t, `(?m)^`+name+` +`+c.Chart+` `+c.Version+` from `+chartsURL+`$`, out)
		require.FileExists(t, filepath.Join(dir, c.Chart+"-"+strings.TrimPrefix(c.Version, "v")+".tgz"))
	}
	require.Contains(t, out, "export "+kubetest.EnvCharts+"="+dir+"\n")
	require.FileExists(t, filepath.Join(dir, filepath.FromSlash(chartmirror.CRDFile)))
	got, err := repo.LoadIndexFile(filepath.Join(dir, "index.yaml"))
	require.NoError(t, err)
	require.Len(t, got.Entries, len(inv.Kubernetes.Charts))

	out, code = mageEnv(t, nil, "charts:mirror", filepath.Join(t.TempDir(), "x"), "-from="+chartsURL, "-crds="+crdURL+"/nowhere")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "HTTP 404")
	require.Contains(t, out, "a copy of Cilium's source: -crds=URL")
}
