package docgen_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/docgen"
)

// repoRoot is the repository this package belongs to.
var repoRoot = filepath.Join("..", "..")

// fixtureRoot is a repository with one module whose README lacks an
// input and a targets page that lacks a target.
var fixtureRoot = filepath.Join("testdata", "repo")

// fixtureDocs are the fixture's generated docs.
func fixtureDocs(root string) []docgen.Doc {
	return []docgen.Doc{docgen.Module(root, "terraform/modules/ok"), docgen.Targets(root)}
}

// TestRepositoryDocsAreFresh fails while a generated part of the
// repository's docs differs from its sources, as the lint step docs does.
func TestRepositoryDocsAreFresh(t *testing.T) {
	docs, err := docgen.All(repoRoot)
	require.NoError(t, err)
	require.Len(t, docs, 4, "two module READMEs, the targets and the inventory reference")
	drifts, err := docgen.Check(repoRoot, docs)
	require.NoError(t, err)
	require.Empty(t, drifts, "run: go run mage.go docs")
}

// TestCheckFindsEachDrift catches a module README whose table lacks an
// input and a targets page that lacks a target, at the first line that
// differs, and writes nothing.
func TestCheckFindsEachDrift(t *testing.T) {
	before, err := os.ReadFile(filepath.Join(fixtureRoot, "docs", "reference", "targets.md"))
	require.NoError(t, err)
	drifts, err := docgen.Check(fixtureRoot, fixtureDocs(fixtureRoot))
	require.NoError(t, err)
	require.Equal(t, []docgen.Drift{
		{Path: "terraform/modules/ok/README.md", Line: 12},
		{Path: "docs/reference/targets.md", Line: 9},
	}, drifts)
	require.Equal(t, "docs/reference/targets.md:9: generated section differs; run: go run mage.go docs", drifts[1].String())
	after, err := os.ReadFile(filepath.Join(fixtureRoot, "docs", "reference", "targets.md"))
	require.NoError(t, err)
	require.Equal(t, string(before), string(after))
}

// TestWriteRegenerates rewrites the drifted parts, keeps the hand-written
// text around them, and leaves nothing to report.
func TestWriteRegenerates(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, os.DirFS(fixtureRoot)))
	written, err := docgen.Write(root, fixtureDocs(root))
	require.NoError(t, err)
	require.Equal(t, []string{"terraform/modules/ok/README.md", "docs/reference/targets.md"}, written)
	for file, golden := range map[string]string{
		"terraform/modules/ok/README.md": "README.md",
		"docs/reference/targets.md":      "targets.md",
	} {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		require.NoError(t, err)
		want, err := os.ReadFile(filepath.Join("testdata", "want", golden))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), file)
	}
	drifts, err := docgen.Check(root, fixtureDocs(root))
	require.NoError(t, err)
	require.Empty(t, drifts)
	written, err = docgen.Write(root, fixtureDocs(root))
	require.NoError(t, err)
	require.Empty(t, written, "an up-to-date file is not rewritten")
}

// TestSpliceRefuses names the file and what is wrong with its markers.
func TestSpliceRefuses(t *testing.T) {
	body := []docgen.Section{{Name: "a", Body: []byte("x")}}
	tests := []struct {
		name string
		text string
		is   error
		want string
	}{
		{name: "no markers", text: "# t\n", is: docgen.ErrNoMarkers, want: `page.md: no generated part "a": it needs the lines <!-- BEGIN GENERATED a: go run mage.go docs --> and <!-- END GENERATED a -->`},
		{name: "no end", text: docgen.Begin("a") + "\nold\n", is: docgen.ErrNoMarkers, want: "page.md: no generated part"},
		{name: "old marker", text: "<!-- BEGIN GENERATED: go test ./internal/tfmodule -update -->\n<!-- END GENERATED -->\n", is: docgen.ErrUnknownSection, want: `page.md:1: markers of a part nothing generates: ""`},
		{name: "unknown part", text: "\n" + docgen.Begin("a") + "\n" + docgen.End("a") + "\n" + docgen.Begin("gone") + "\n" + docgen.End("gone") + "\n", is: docgen.ErrUnknownSection, want: `page.md:4: markers of a part nothing generates: "gone"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := docgen.Splice("page.md", []byte(tt.text), body)
			require.ErrorIs(t, err, tt.is)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestSplice replaces each part and only the parts.
func TestSplice(t *testing.T) {
	text := "head\n" + docgen.Begin("a") + "\nold a\n" + docgen.End("a") + "\nmiddle\n" + docgen.Begin("b") + "\n" + docgen.End("b") + "\ntail\n"
	got, err := docgen.Splice("page.md", []byte(text), []docgen.Section{{Name: "b", Body: []byte("new b\n")}, {Name: "a", Body: []byte("new a")}})
	require.NoError(t, err)
	require.Equal(t, "head\n"+docgen.Begin("a")+"\n\nnew a\n\n"+docgen.End("a")+"\nmiddle\n"+docgen.Begin("b")+"\n\nnew b\n\n"+docgen.End("b")+"\ntail\n", string(got))
}

// TestInventoryFields lists every field with its type and description:
// types from the Go types unless a Type line says more, "optional" from
// omitempty, a shared struct once under its placeholder, mapping keys from
// the Key line, a mapping of scalars' values from the Value lines.
func TestInventoryFields(t *testing.T) {
	rows, err := docgen.InventoryFields(filepath.Join("testdata", "inventory", "ok"), "File")
	require.NoError(t, err)
	require.Equal(t, []docgen.Field{
		{Path: "schema", Type: "integer", Description: "Format version."},
		{Path: "ranges", Type: "mapping", Description: "The LAN's two ranges."},
		{Path: "ranges.hosts", Type: "range", Description: "Where the hosts are."},
		{Path: "ranges.vms", Type: "range", Description: "Where the VMs are."},
		{Path: "ranges.<range>.start", Type: "IPv4 address", Description: "First address."},
		{Path: "hosts", Type: "list, optional", Description: "The machines."},
		{Path: "hosts[].name", Type: "name", Description: "Host name; see docs/reference/other.md."},
		{Path: "hosts[].dns", Type: "list of IPv4 addresses", Description: "Resolvers."},
		{Path: "hosts[].search", Type: "list of strings, optional", Description: "Search domains."},
		{Path: "hosts[].enabled", Type: "boolean", Description: "Enabled or not."},
		{Path: "images", Type: "mapping", Description: "Images keyed by OS."},
		{Path: "images.<os>.id", Type: "VM ID", Description: "Its VM ID."},
		{Path: "images.<os>.cidr", Type: "IPv4 CIDR", Description: "The network it lives in."},
		{Path: "tools", Type: "mapping", Description: "Tool versions."},
		{Path: "tools.<name>", Type: "version", Description: "The version of a tool, e.g. `sops: 3.13.3`."},
	}, rows)

	sections := docgen.InventoryMarkdown(rows, "docs/reference")
	names := make([]string, len(sections))
	for i, s := range sections {
		names[i] = s.Name
	}
	require.Equal(t, []string{"top-level", "ranges", "hosts", "images", "tools"}, names)
	require.Equal(t, "| Field | Type | Description |\n|---|---|---|\n"+
		"| `hosts[].name` | name | Host name; see [docs/reference/other.md](other.md). |\n"+
		"| `hosts[].dns` | list of IPv4 addresses | Resolvers. |\n"+
		"| `hosts[].search` | list of strings, optional | Search domains. |\n"+
		"| `hosts[].enabled` | boolean | Enabled or not. |\n", string(sections[2].Body))
}

// TestInventoryFieldsRefuses names the field whose comment lacks what the
// reference needs, with its file and line.
func TestInventoryFieldsRefuses(t *testing.T) {
	tests := []struct{ dir, want string }{
		{dir: "nodoc", want: "testdata/inventory/nodoc/schema.go:8:2: field B (b) has no doc comment"},
		{dir: "nokey", want: `testdata/inventory/nokey/schema.go:7:2: mapping tools has no "Key:" line`},
		{dir: "novalue", want: `testdata/inventory/novalue/schema.go:8:2: mapping tools.<name> has no "Value:" line`},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := docgen.InventoryFields(filepath.Join("testdata", "inventory", tt.dir), "File")
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestInventoryReferenceCoversTheSchema holds the real inventory to the
// reference's shape: every field has a row (a field without a doc comment
// fails generation), under its section.
func TestInventoryReferenceCoversTheSchema(t *testing.T) {
	rows, err := docgen.InventoryFields(filepath.Join(repoRoot, "lib", "inventory"), "Inventory")
	require.NoError(t, err)
	require.Greater(t, len(rows), 80)
	paths := map[string]string{}
	for _, r := range rows {
		paths[r.Path] = r.Type
	}
	require.Equal(t, "range", paths["network.ranges.vms"])
	require.Equal(t, "IPv4 address", paths["network.ranges.<range>.start"])
	require.Equal(t, "VM ID", paths["talos.nodes[].vm_id"])
	require.Equal(t, "mapping name, optional", paths["talos.nodes[].gpu.mapping"])
	require.Equal(t, "version", paths["tools.<name>"])
	require.Contains(t, paths, "kubernetes.charts.<name>.repository")
}

// TestAffects tells the generated docs and their sources from every other
// file, for a check limited to a commit's files.
func TestAffects(t *testing.T) {
	for file, want := range map[string]bool{
		"docs/reference/targets.md":               true,
		"docs/reference/inventory.md":             true,
		"magefiles/docs.go":                       true,
		"lib/inventory/inventory.go":              true,
		"lib/inventory/inventory_test.go":         false,
		"terraform/modules/proxmox-vm/main.tf":    true,
		"terraform/modules/proxmox-vm/README.md":  true,
		"terraform/talos/main.tf":                 false,
		"docs/reference/addons.md":                false,
		"lib/inventory/testdata/valid/small.yaml": false,
		"README.md": false,
	} {
		require.Equal(t, want, docgen.Affects(file), file)
	}
}
