package inventory_test

import (
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/wdiazux/infra/lib/inventory"
)

// BenchmarkParseHomelab measures decoding and validating the real inventory,
// which every target does before anything else:
//
//	go test -run '^$' -bench . -benchmem ./lib/inventory
func BenchmarkParseHomelab(b *testing.B) {
	data, err := os.ReadFile(homelabFile)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := inventory.Parse("homelab.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteTable measures rendering config:show's tables.
func BenchmarkWriteTable(b *testing.B) {
	inv, err := inventory.Load(homelabFile)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := inv.WriteTable(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseHugeBroken measures a file with 200,000 unknown keys, of
// which the report lists 50 and counts the rest.
func BenchmarkParseHugeBroken(b *testing.B) {
	data := hugeBroken(b, 200_000, func(i int) string { return fmt.Sprintf("key%06d: 1", i) })
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, err := inventory.Parse("huge.yaml", data)
		if err == nil {
			b.Fatal("no error")
		}
		b.ReportMetric(float64(len(err.Error())), "report-bytes")
	}
}
