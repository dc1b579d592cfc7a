package images_test

import (
	"context"
	"testing"
	"time"

	"github.com/wdiazux/infra/internal/distsim"
	"github.com/wdiazux/infra/lib/cloudimage"
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
// then all of them at once on another, from internal/distsim limited per
// connection, through the real resolver and (NixOS) the real VMA
// conversion, and reports wall(all) / max(wall of one): the imports run in
// parallel (PVE downloads, NixOS converts here), so it should stay ≤ 1.2.
//
//	go test -run '^$' -bench CloudImportAll -benchtime 3x ./lib/images
func BenchmarkCloudImportAll(b *testing.B) {
	var ratio, slowest, all float64
	for range b.N {
		b.StopTimer()
		maxSingle := time.Duration(0)
		for _, osName := range images.CloudOSes() {
			r, src := benchRig(b)
			start := time.Now()
			if _, err := images.ImportCloud(context.Background(), r.inv, r.client, src, r.loadLock(), osName, images.CloudImportOptions{}); err != nil {
				b.Fatal(err)
			}
			maxSingle = max(maxSingle, time.Since(start))
		}
		r, src := benchRig(b)
		b.StartTimer()
		start := time.Now()
		res, err := images.ImportClouds(context.Background(), r.inv, r.client, src, r.loadLock(), images.CloudOSes(), images.CloudImportOptions{})
		wall := time.Since(start)
		b.StopTimer()
		if err != nil || len(res) != 4 {
			b.Fatalf("%d results, err %v", len(res), err)
		}
		for _, one := range res {
			if one.Err != nil {
				b.Fatalf("%s: %v", one.OS, one.Err)
			}
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

// benchRig is a fresh host, with a client that polls tasks every 20 ms
// (the tests' 2 ms would spend the CPU the parallel imports share on
// polling), and a resolver of a fresh rate-limited distsim.
func benchRig(b *testing.B) (*cloudRig, *cloudimage.Resolver) {
	r := &cloudRig{rig: newRig(b)}
	id, secret := r.sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: r.sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: r.sim.Fingerprint()},
		proxmox.WithPollInterval(20*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	r.client = client
	sim, err := distsim.New(distsim.WithBandwidth(benchRate), distsim.WithImageData(benchPayload))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	src, err := cloudimage.NewResolver(sim.ResolverOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	return r, src
}
