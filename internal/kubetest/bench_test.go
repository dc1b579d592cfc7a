package kubetest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/testtool"
)

// BenchmarkStartStop starts and stops a server per iteration and reports
// each phase: start-s (until /readyz and the default namespace) and stop-s.
func BenchmarkStartStop(b *testing.B) {
	inv, err := kubetest.RepositoryInventory(".")
	if err != nil {
		b.Fatal(err)
	}
	bins, err := kubetest.LookupBinaries(inv)
	if errors.Is(err, kubetest.ErrToolMissing) && !testtool.InCI() {
		b.Skip(err)
	} else if err != nil {
		b.Fatal(err)
	}
	var start, stop time.Duration
	for b.Loop() {
		t0 := time.Now()
		srv, err := kubetest.Start(b.Context(), kubetest.WithBinaries(bins))
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := srv.Stop(); err != nil {
			b.Fatal(err)
		}
		start += t1.Sub(t0)
		stop += time.Since(t1)
	}
	b.ReportMetric(start.Seconds()/float64(b.N), "start-s")
	b.ReportMetric(stop.Seconds()/float64(b.N), "stop-s")
}
