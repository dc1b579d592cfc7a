package images_test

import (
	"context"
	"testing"
	"time"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/proxmox"
)

// benchPayload and benchRate make each import's transfer take about half
// a second: the stand-in site serves every connection at benchRate.
const (
	benchPayload = 2 << 20
	benchRate    = 4 << 20
)

// BenchmarkCloudImportAll imports every OS alone, each on a fresh host,
// then all of them at once on another, with the stand-in site limited per
// connection, and reports wall(all) / max(wall of one): the imports run in
// parallel (PVE downloads, NixOS converts here), so it should stay ≤ 1.2.
// The stand-in is the loopback site of these tests; internal/distsim takes
// its place through newSite when it lands.
//
//	go test -run '^$' -bench CloudImportAll -benchtime 3x ./lib/images
func BenchmarkCloudImportAll(b *testing.B) {
	var ratio, slowest, all float64
	for range b.N {
		b.StopTimer()
		maxSingle := time.Duration(0)
		for _, osName := range images.CloudOSes() {
			r := benchRig(b)
			start := time.Now()
			if _, err := r.importOS(osName, images.CloudImportOptions{}); err != nil {
				b.Fatal(err)
			}
			maxSingle = max(maxSingle, time.Since(start))
		}
		r := benchRig(b)
		b.StartTimer()
		start := time.Now()
		res, err := images.ImportClouds(context.Background(), r.inv, r.client, r.site, r.loadLock(), images.CloudOSes(), images.WithVMAStage(images.CloudImportOptions{}, fakeVMAStage))
		wall := time.Since(start)
		b.StopTimer()
		if err != nil || len(res) != 4 {
			b.Fatalf("%d results, err %v", len(res), err)
		}
		ratio += wall.Seconds() / maxSingle.Seconds()
		slowest += maxSingle.Seconds()
		all += wall.Seconds()
	}
	n := float64(b.N)
	b.ReportMetric(ratio/n, "wall-all/max-single")
	b.ReportMetric(slowest/n, "max-single-s")
	b.ReportMetric(all/n, "all-s")
}

// benchRig is a fresh host and a rate-limited site, with a client that
// polls tasks every 20 ms (the tests' 2 ms would spend the CPU the
// parallel imports share on polling).
func benchRig(b *testing.B) *cloudRig {
	r := &cloudRig{rig: newRig(b), site: newSite(b, benchPayload, benchRate)}
	id, secret := r.sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: r.sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: r.sim.Fingerprint()},
		proxmox.WithPollInterval(20*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	r.client = client
	return r
}
