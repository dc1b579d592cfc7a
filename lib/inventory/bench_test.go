package inventory_test

import (
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
