package helmdeploy

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/wdiazux/infra/internal/kubetest"
	"k8s.io/client-go/rest"
)

// BenchmarkRenderChart renders a real chart (Cilium 1.19.5, from the
// offline repository) client-side, as Diff and Apply do before anything
// reaches the server.
func BenchmarkRenderChart(b *testing.B) {
	mirror := kubetest.ChartMirror(b)
	if mirror == "" {
		b.Skip("no offline chart repository: nothing to render offline")
	}
	d, err := New(&rest.Config{Host: "https://unused.invalid"}, WithMirror(mirror), WithCacheDir(b.TempDir()))
	require.NoError(b, err)
	l := d.newChartLoader()
	ch, err := l.load(context.Background(), ChartRef{Repository: "https://helm.cilium.io", Name: "cilium", Version: "1.19.5"})
	require.NoError(b, err)
	values := map[string]any{"kubeProxyReplacement": true, "k8sServiceHost": "localhost", "k8sServicePort": 7445}
	b.ResetTimer()
	for b.Loop() {
		cfg := &action.Configuration{Releases: storage.Init(driver.NewMemory()), KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard}, Capabilities: common.DefaultCapabilities}
		cfg.SetLogger(slog.DiscardHandler)
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace, in.DryRunStrategy = "cilium", "kube-system", action.DryRunClient
		in.KubeVersion = &common.KubeVersion{Version: "v1.34.4", Major: "1", Minor: "34"}
		rel, err := in.RunWithContext(context.Background(), ch, values)
		require.NoError(b, err)
		require.NotZero(b, revisionOf(rel))
	}
}

// BenchmarkInstall installs csi-driver-nfs 4.12.1 into the test API server
// (controllers stand-in marking it ready) and uninstalls it, untimed.
func BenchmarkInstall(b *testing.B) {
	srv := apiServer.Server(b)
	ns := srv.Namespace(b)
	srv.Controllers(b)
	d := realDeployer(b, srv.Config())
	ctx := context.Background()
	for b.Loop() {
		rep, err := d.Apply(ctx, []Release{csiNFS(ns, nil)})
		require.NoError(b, err)
		require.Equal(b, ActionInstalled, rep.Releases[0].Action)
		b.StopTimer()
		cfg, err := d.actionConfig(ns, "csi-driver-nfs")
		require.NoError(b, err)
		require.NoError(b, uninstall(cfg, "csi-driver-nfs", time.Minute))
		b.StartTimer()
	}
}
