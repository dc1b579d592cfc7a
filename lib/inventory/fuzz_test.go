package inventory_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wdiazux/infra/lib/inventory"
)

// FuzzParse feeds the loader arbitrary bytes. It must never panic, and its
// answer must be either a valid inventory or an *inventory.Error whose every
// problem names the file and says something. Seeds: the real inventory, the
// fixtures, and the committed corpus under testdata/fuzz/FuzzParse.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./lib/inventory
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range append(seeds, homelabFile) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := inventory.Parse("fuzz.yaml", data)
		if err == nil {
			if inv == nil {
				t.Fatal("no error and no inventory")
			}
			for _, a := range inv.Addresses() {
				if !inv.Network.CIDR.Contains(a.IP) {
					t.Fatalf("accepted %s at %s outside %s", a.IP, a.Path, inv.Network.CIDR)
				}
			}
			return
		}
		var invErr *inventory.Error
		if !errors.As(err, &invErr) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if inv != nil || len(invErr.Problems) == 0 {
			t.Fatalf("inventory %v with error %v", inv, err)
		}
		for _, p := range invErr.Problems {
			if p.File != "fuzz.yaml" || p.Message == "" || p.Line < 0 {
				t.Fatalf("incomplete problem %#v", p)
			}
		}
	})
}
