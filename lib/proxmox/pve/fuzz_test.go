package pve_test

import (
	"testing"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// FuzzPropertyString: parsing never panics, and what parses prints back to
// a string that parses to the same keys and values.
//
//	go test -run '^$' -fuzz FuzzPropertyString -fuzztime 60s ./lib/proxmox/pve
func FuzzPropertyString(f *testing.F) {
	for _, seed := range []string{
		"local-zfs:0,import-from=local:import/talos.qcow2,discard=on,iothread=1,ssd=1",
		`virtio=BC:24:11:00:00:01,bridge=vmbr0,tag="1,2"`,
		"mapping=rtx4000,pcie=1", "", ",,", "a=", `x="`, "=v",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := pve.ParsePropertyString(s, "file")
		if err != nil {
			return
		}
		again, err := pve.ParsePropertyString(p.String(), "file")
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, p.String(), err)
		}
		for _, k := range p.Keys() {
			if p.Value(k) != again.Value(k) {
				t.Fatalf("%q: key %q was %q, is %q after printing as %q", s, k, p.Value(k), again.Value(k), p.String())
			}
		}
		if len(p.Keys()) != len(again.Keys()) {
			t.Fatalf("%q: keys %v became %v", s, p.Keys(), again.Keys())
		}
	})
}
