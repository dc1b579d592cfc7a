package distsim_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wdiazux/infra/internal/distsim"
)

// BenchmarkBandwidth downloads one Debian image through a connection limited
// to 4 MiB/s and reports the rate it got (MiB/s) next to the limit.
func BenchmarkBandwidth(b *testing.B) {
	const limit = 4 << 20
	sim, err := distsim.New(distsim.WithBandwidth(limit), distsim.WithImageData(2<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	url := sim.BaseURL("debian") + "/trixie/" + sim.Latest("debian") + "/debian-13-genericcloud-amd64-" + sim.Latest("debian") + ".qcow2"
	var bytes int64
	start := time.Now()
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		bytes += n
	}
	b.ReportMetric(float64(bytes)/time.Since(start).Seconds()/(1<<20), "MiB/s")
	b.ReportMetric(float64(limit)/(1<<20), "limit-MiB/s")
}
