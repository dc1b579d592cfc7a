package addons

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
)

// leafPaths lists the dotted paths of v's leaves (a list is a leaf).
func leafPaths(prefix string, v map[string]any) []string {
	var out []string
	for k, x := range v {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if m, ok := x.(map[string]any); ok && len(m) > 0 {
			out = append(out, leafPaths(p, m)...)
			continue
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// overlaps reports static paths that set a computed path, a part of one,
// or a value holding one.
func overlaps(static, computed []string) []string {
	var out []string
	for _, s := range static {
		for _, c := range computed {
			if s == c || strings.HasPrefix(c, s+".") || strings.HasPrefix(s, c+".") {
				out = append(out, s+" (computed: "+c+")")
			}
		}
	}
	return out
}

func TestOverlapsFindsAComputedKey(t *testing.T) {
	require.Equal(t, []string{"a.b (computed: a.b)"}, overlaps([]string{"a.b", "a.c"}, []string{"a.b"}))
	require.Equal(t, []string{"a (computed: a.b)"}, overlaps([]string{"a"}, []string{"a.b"}))
	require.Equal(t, []string{"a.b.c (computed: a.b)"}, overlaps([]string{"a.b.c"}, []string{"a.b"}))
	require.Empty(t, overlaps([]string{"a.bc"}, []string{"a.b"}))
}

// TestStaticValuesNeverSetAComputedKey: a key computed from the inventory is
// never in kubernetes/<addon>/values.yaml.
func TestStaticValuesNeverSetAComputedKey(t *testing.T) {
	inv, err := inventory.Load("../../homelab.yaml")
	require.NoError(t, err)
	f, err := newFacts(inv)
	require.NoError(t, err)
	require.Len(t, f.enabled, len(catalogue()), "homelab.yaml enables every add-on")
	for _, a := range f.enabled {
		static, err := staticValues("../..", a.Name)
		require.NoError(t, err)
		computed, err := a.computed(f)
		require.NoError(t, err)
		require.Empty(t, overlaps(leafPaths("", static), leafPaths("", computed)),
			"kubernetes/%s/values.yaml sets keys lib/addons computes from the inventory; remove them", a.Name)
	}
}

// TestTreeHoldsNoInventoryFact: no file of kubernetes/ holds an address,
// export or git URL of the inventory; those are computed.
func TestTreeHoldsNoInventoryFact(t *testing.T) {
	inv, err := inventory.Load("../../homelab.yaml")
	require.NoError(t, err)
	facts := []string{inv.Kubernetes.NFS.BackupExport, inv.Kubernetes.NFS.VolumeExport, inv.Kubernetes.GitOps.URL}
	for _, a := range inv.Addresses() {
		facts = append(facts, a.IP.String())
	}
	r := inv.Network.Ranges
	facts = append(facts, r.LoadBalancer.Start.String(), r.LoadBalancer.End.String(), r.Services.Start.String(), r.Services.End.String())
	n := 0
	require.NoError(t, filepath.WalkDir("../../kubernetes", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		n++
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, fact := range facts {
			require.NotContains(t, string(data), fact, "%s holds %s from homelab.yaml; compute it in lib/addons", path, fact)
		}
		return nil
	}))
	require.Greater(t, n, 10)
}
