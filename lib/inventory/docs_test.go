package inventory_test

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
)

const referenceDoc = "../../docs/reference/inventory.md"

// mapKeyNames names the key placeholder the reference uses for each mapping.
var mapKeyNames = map[string]string{
	"images":            "<os>",
	"kubernetes.charts": "<name>",
	"tools":             "<name>",
}

// fieldPaths lists every field of the inventory as the reference writes it:
// "[]" for list items, "<name>" for mapping keys, and the five ranges'
// shared fields once as network.ranges.<range>.
func fieldPaths(t *testing.T) []string {
	pkg := reflect.TypeFor[inventory.Inventory]().PkgPath()
	// ours tells the inventory's structs from scalars such as netip.Addr.
	ours := func(typ reflect.Type) bool { return typ.Kind() == reflect.Struct && typ.PkgPath() == pkg }
	var paths []string
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		switch {
		case typ.Kind() == reflect.Slice:
			if ours(typ.Elem()) {
				walk(path+"[]", typ.Elem())
			}
		case typ.Kind() == reflect.Map:
			name, ok := mapKeyNames[path]
			require.True(t, ok, "no key placeholder for mapping %s", path)
			if ours(typ.Elem()) {
				walk(path+"."+name, typ.Elem())
			} else {
				paths = append(paths, path+"."+name)
			}
		case ours(typ):
			if typ == reflect.TypeFor[inventory.Range]() {
				path = "network.ranges.<range>"
			}
			for i := range typ.NumField() {
				key, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
				sub := key
				if path != "" {
					sub = path + "." + key
				}
				if !slices.Contains(paths, sub) {
					paths = append(paths, sub)
				}
				walk(sub, typ.Field(i).Type)
			}
		}
	}
	walk("", reflect.TypeFor[inventory.Inventory]())
	return paths
}

func TestReferenceDocumentsEveryField(t *testing.T) {
	doc, err := os.ReadFile(referenceDoc)
	require.NoError(t, err)
	documented := map[string]bool{}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}

	paths := fieldPaths(t)
	require.Greater(t, len(paths), 80)
	for _, p := range paths {
		require.True(t, documented[p], "%s: field %s has no row in the reference; add `| `%s` | type | description |`", referenceDoc, p, p)
	}
	for p := range documented {
		require.True(t, slices.Contains(paths, p), "%s documents %s, which the inventory does not have", referenceDoc, p)
	}
}

// TestReferenceListsTheKnownTalosReleases keeps the reference's support table
// equal to inventory.TalosReleases.
func TestReferenceListsTheKnownTalosReleases(t *testing.T) {
	doc, err := os.ReadFile(referenceDoc)
	require.NoError(t, err)
	rows := regexp.MustCompile(`(?m)^\| (v\d+\.\d+) \| (\d+\.\d+ to \d+\.\d+) \|$`).FindAllStringSubmatch(string(doc), -1)
	var want, got []string
	for _, r := range inventory.TalosReleases() {
		o, n := r.OldestKubernetes, r.NewestKubernetes
		want = append(want, fmt.Sprintf("%s: %d.%d to %d.%d", r.Talos, o.Major, o.Minor, n.Major, n.Minor))
	}
	for _, m := range rows {
		got = append(got, m[1]+": "+m[2])
	}
	require.Equal(t, want, got, "%s: the Talos/Kubernetes table", referenceDoc)
}
