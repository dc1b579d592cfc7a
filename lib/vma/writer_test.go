package vma

import (
	"bytes"
	"testing"

	"github.com/wdiazux/infra/internal/vmagen"
)

// testDev describes one device for buildVMA: its size and its contents by cluster number.
type testDev struct {
	name     string
	size     int64
	clusters map[uint32][]byte // ClusterSize bytes each; zero 4 KiB blocks are left out as the spec says
	zeroes   []uint32          // clusters recorded with mask 0
}

var testUUID = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// buildVMA writes a VMA stream to the specification with internal/vmagen (a writer that shares
// no code with this reader): each device's zero clusters, then its data clusters in order.
func buildVMA(t testing.TB, configs []Config, devs []testDev) []byte {
	t.Helper()
	var gc []vmagen.Config
	for _, c := range configs {
		gc = append(gc, vmagen.Config{Name: c.Name, Data: c.Data})
	}
	var gd []vmagen.Device
	for _, d := range devs {
		gd = append(gd, vmagen.Device{Name: d.name, Size: d.size})
	}
	var out bytes.Buffer
	w, err := vmagen.NewWriter(&out, testUUID, 1700000000, gc, gd)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range devs {
		for _, z := range d.zeroes {
			if err := w.WriteCluster(uint8(i+1), z, nil); err != nil {
				t.Fatal(err)
			}
		}
		for n := uint32(0); int64(n)*ClusterSize < d.size; n++ {
			if c, ok := d.clusters[n]; ok {
				if err := w.WriteCluster(uint8(i+1), n, c); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
