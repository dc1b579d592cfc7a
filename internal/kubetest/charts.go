package kubetest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/wdiazux/infra/internal/testtool"
)

// EnvCharts names a folder holding the offline chart repository (as
// chartmirror.Build writes it, e.g. with charts:mirror on a CI runner);
// ChartsDir takes it before looking for shared/charts.
const EnvCharts = "INFRA_TEST_CHARTS"

// ChartsDir finds the offline chart repository (index.yaml and the real
// upstream charts at the versions homelab.yaml pins, crds/ beside them):
// the folder $INFRA_TEST_CHARTS names when it is set (and nothing when
// that folder has no index.yaml), else shared/charts in dir or a folder
// above it: ../shared/charts of a checkout, ../../shared/charts of a
// worktree beside it.
func ChartsDir(dir string) (string, bool) {
	if env := os.Getenv(EnvCharts); env != "" {
		abs, err := filepath.Abs(env)
		if err != nil {
			return "", false
		}
		if _, err := os.Stat(filepath.Join(abs, "index.yaml")); err != nil {
			return "", false
		}
		return abs, true
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		charts := filepath.Join(dir, "shared", "charts")
		if _, err := os.Stat(filepath.Join(charts, "index.yaml")); err == nil {
			return charts, true
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
		dir = filepath.Dir(dir)
	}
}

// ChartMirror serves the offline chart repository found by ChartsDir from
// the test's working directory over loopback until the test ends, and
// returns its URL for helmdeploy.WithMirror. Without it, the tests use the
// charts' real repositories and say so (it returns ""); in CI (CI=true)
// having no offline repository is a failure, not a skip.
func ChartMirror(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	charts, ok := ChartsDir(wd)
	if !ok {
		if testtool.InCI() {
			t.Fatalf("no offline chart repository (shared/charts above %s, or the folder $%s names): in CI it is required", wd, EnvCharts)
		}
		t.Logf("no offline chart repository (shared/charts above %s, or $%s): using the charts' real repositories", wd, EnvCharts)
		return ""
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(charts)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// CiliumOperatorCRDs plays the Cilium operator's start-up: when Deployment
// kube-system/cilium-operator would become ready, the CRDs it creates for
// LB-IPAM and L2 announcements (CiliumLoadBalancerIPPool,
// CiliumL2AnnouncementPolicy; the chart ships none) are applied from the
// offline chart repository's crds/cilium-l2-lb.yaml and waited on until
// established, so the operator is reported ready only once they are
// served, as with the real one.
func CiliumOperatorCRDs(cfg *rest.Config, chartsDir string) ControllerOption {
	return OnReady(Match("Deployment", "kube-system", "cilium-operator"), func(ctx context.Context, _ Object) error {
		if chartsDir == "" {
			return errors.New("the Cilium operator's CRDs: no offline chart repository (shared/charts), so no crds/cilium-l2-lb.yaml")
		}
		return ApplyCRDFile(ctx, cfg, filepath.Join(chartsDir, "crds", "cilium-l2-lb.yaml"))
	})
}
