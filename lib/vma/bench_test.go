package vma

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// BenchmarkReadSparse reads a 256 MiB device of which one cluster in 16 holds data
// (half of its blocks non-zero) and one in 16 is recorded as a zero cluster.
func BenchmarkReadSparse(b *testing.B) {
	const size = 256 << 20
	d := testDev{name: "drive-scsi0", size: size, clusters: map[uint32][]byte{}}
	for n := uint32(0); int64(n)*ClusterSize < size; n += 16 {
		d.clusters[n] = pattern(byte(n), 0, 2, 4, 6, 8, 10, 12, 14)
		d.zeroes = append(d.zeroes, n+1)
	}
	data := buildVMA(b, nil, []testDev{d})
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(data))/(1<<20), "stream-MiB")
}
