package images_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/talosfactory"
)

// countingTransport counts the image bytes this machine receives.
type countingTransport struct {
	next  http.RoundTripper
	bytes atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil && strings.HasPrefix(req.URL.Path, "/image/") {
		resp.Body = &countingBody{resp.Body, &c.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// BenchmarkTalosImport runs a default import (no -verify) end to end against
// the simulator and reports the image bytes that passed through this
// machine (expected: 0, PVE downloads the image itself) and through PVE.
//
//	go test -run '^$' -bench TalosImport -benchtime 5x ./lib/images
func BenchmarkTalosImport(b *testing.B) {
	var workstation, served int64
	for range b.N {
		b.StopTimer()
		r := newRig(b)
		counter := &countingTransport{next: http.DefaultTransport}
		factory, err := talosfactory.New(r.factory.URL(), talosfactory.WithHTTPClient(&http.Client{Transport: counter}))
		if err != nil {
			b.Fatal(err)
		}
		lock, err := images.LoadLockFile(r.lock)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := images.ImportTalos(context.Background(), r.inv, r.client, factory, lock, images.TalosImportOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		workstation += counter.bytes.Load()
		served += r.factory.ImageBytesServed()
	}
	b.ReportMetric(float64(workstation)/float64(b.N), "workstation-image-bytes/op")
	b.ReportMetric(float64(served)/float64(b.N), "pve-image-bytes/op")
}

// BenchmarkTalosImportNoop measures the wall time of a re-run that finds the
// template already there and changes nothing.
//
//	go test -run '^$' -bench TalosImportNoop ./lib/images
func BenchmarkTalosImportNoop(b *testing.B) {
	r := newRig(b)
	if _, err := r.run(images.TalosImportOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		res, err := r.run(images.TalosImportOptions{})
		if err != nil || res.Action != plan.Unchanged {
			b.Fatalf("outcome %v, err %v", res, err)
		}
	}
}
