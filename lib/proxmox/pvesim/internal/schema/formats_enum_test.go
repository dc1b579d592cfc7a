package schema

import (
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

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
// subset) and fails when a format they reference has no checker: PVE's
// check_format dies on a format it does not know, and the simulator must
// check every one it does.
func TestEveryReferencedFormatHasAChecker(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	methods := s.Methods()

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

// TestNoFormatIsGivenOnlyByDescription reads the raw apidoc (format_description
// and typetext are dropped from the subset) and fails when a property of an
// implemented or pending endpoint names its format only in prose: every
// property with a format_description must carry a rule the validator checks
// (a format, a pattern, an enum or a non-string type). Properties whose
// typetext is the bare "<string>" are free text in PVE too.
func TestNoFormatIsGivenOnlyByDescription(t *testing.T) {
	f, err := os.Open("pve-apidoc.json.gz")
	require.NoError(t, err)
	defer f.Close()
	byPath, err := readAPIDoc(f)
	require.NoError(t, err)

	var proseOnly []string
	described := 0
	var walk func(string, map[string]any)
	walk = func(where string, p map[string]any) {
		if keys, ok := p["format"].(map[string]any); ok {
			for k, sub := range keys {
				if m, ok := sub.(map[string]any); ok {
					walk(where+"."+k, m)
				}
			}
		}
		if items, ok := p["items"].(map[string]any); ok {
			walk(where+"[]", items)
		}
		if _, ok := p["format_description"]; !ok {
			return
		}
		described++
		_, hasFormat := p["format"]
		_, hasPattern := p["pattern"]
		_, hasEnum := p["enum"]
		typ, _ := p["type"].(string)
		if !hasFormat && !hasPattern && !hasEnum && (typ == "" || typ == "string") {
			proseOnly = append(proseOnly, where)
		}
	}
	for _, ep := range Endpoints() {
		raw, ok := byPath[ep.Path].Info[ep.Method]
		require.True(t, ok, "%s %s", ep.Method, ep.Path)
		var info struct {
			Parameters struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"parameters"`
		}
		require.NoError(t, json.Unmarshal(raw, &info))
		for name, p := range info.Parameters.Properties {
			walk(ep.Method+" "+ep.Path+" "+name, p)
		}
	}
	require.NotZero(t, described, "the apidoc records format_description")
	sort.Strings(proseOnly)
	require.Empty(t, proseOnly, "properties whose format is given only by description")
}
