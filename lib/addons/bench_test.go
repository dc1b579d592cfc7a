package addons_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/wdiazux/infra/internal/kubetest"

	"github.com/wdiazux/infra/lib/addons"
)

// BenchmarkReleases: computing every release (values and kustomize
// renders) from homelab.yaml.
func BenchmarkReleases(b *testing.B) {
	inv := loadHomelab(b)
	for b.Loop() {
		if _, err := addons.Releases(inv, repoRoot); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderAll: computing every release and rendering each real chart
// with its values client-side (Forgejo's chart is not offline).
func BenchmarkRenderAll(b *testing.B) {
	dir := requireCharts(b)
	inv := loadHomelab(b)
	for b.Loop() {
		rels, err := addons.Releases(inv, repoRoot)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rels {
			if r.Chart == nil || r.Name == addons.Forgejo {
				continue
			}
			ch, err := loader.Load(filepath.Join(dir, r.Chart.Name+"-"+strings.TrimPrefix(r.Chart.Version, "v")+".tgz"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := render(ch, r); err != nil {
				b.Fatal(r.Name, err)
			}
		}
	}
}

// BenchmarkDeploy: the full install of every add-on (Forgejo aside) with
// the real charts from the loopback mirror into the test API server,
// reported as install-s, then each iteration a re-run that finds nothing
// to do (ns/op). Run it alone (-run '^$') so the server is fresh.
func BenchmarkDeploy(b *testing.B) {
	srv := kube.Server(b)
	charts, _ := kubetest.ChartsDir(repoRoot)
	srv.Controllers(b, kubetest.CiliumOperatorCRDs(srv.Config(), charts))
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	dep := deployOn(b, srv, withoutForgejo(b), id)
	start := time.Now()
	res, err := dep.Run(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	install := time.Since(start)
	for b.Loop() {
		if _, err := dep.Run(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	if res.Changed() {
		b.ReportMetric(install.Seconds(), "install-s")
	}
}
