package schema

import (
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// pendingEndpoints are methods other work adds to Endpoints (power, guest
// agent and cloud-init); their formats must have checkers before they land.
func pendingEndpoints() []Endpoint {
	return []Endpoint{
		{"POST", "/nodes/{node}/qemu/{vmid}/status/start"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/stop"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/shutdown"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/reboot"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/reset"},
		{"POST", "/nodes/{node}/qemu/{vmid}/agent/ping"},
		{"GET", "/nodes/{node}/qemu/{vmid}/agent/info"},
		{"GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces"},
		{"GET", "/nodes/{node}/qemu/{vmid}/cloudinit"},
		{"PUT", "/nodes/{node}/qemu/{vmid}/cloudinit"},
		{"GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump"},
	}
}

// referencedFormats returns every named format the methods reference, at the
// top level, inside property strings (named or inline) and in array items,
// with one place that references it.
func referencedFormats(methods []*Method) map[string]string {
	found := map[string]string{}
	var walk func(string, *Property)
	walk = func(where string, p *Property) {
		if p == nil {
			return
		}
		if p.Format != nil {
			if p.Format.Name != "" {
				if _, ok := found[p.Format.Name]; !ok {
					found[p.Format.Name] = where
				}
			}
			for k, sub := range p.Format.Keys {
				walk(where+"."+k, sub)
			}
		}
		walk(where+"[]", p.Items)
	}
	for _, m := range methods {
		for name, p := range m.Parameters.Properties {
			walk(m.Method+" "+m.Path+" "+name, p)
		}
	}
	return found
}

// TestEveryReferencedFormatHasAChecker walks the implemented endpoints (the
// subset) and the pending ones (from the full apidoc) and fails when a format
// they reference has no checker: PVE's check_format dies on a format it does
// not know, and the simulator must check every one it does.
func TestEveryReferencedFormatHasAChecker(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	methods := s.Methods()

	f, err := os.Open("pve-apidoc.json.gz")
	require.NoError(t, err)
	defer f.Close()
	pending, err := Extract(f, pendingEndpoints())
	require.NoError(t, err)
	ps, err := parse(pending)
	require.NoError(t, err)
	methods = append(methods, ps.Methods()...)

	found := referencedFormats(methods)
	var missing []string
	for name, where := range found {
		if !hasChecker(name) {
			missing = append(missing, name+" (e.g. "+where+")")
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "formats referenced by the endpoints without a checker")
	// The walk reaches into named property-string formats: the keys of
	// pve-qm-ipconfig and pve-qm-cicustom are among the references.
	for _, name := range []string{"pve-qm-ipconfig", "pve-ipv4-config", "ipv6", "pve-volume-id", "pve-qm-bootdev-list", "pve-phys-bits", "address-list", "CIDR"} {
		require.Contains(t, found, name)
	}
}
