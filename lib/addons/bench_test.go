package addons_test

import (
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"

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
