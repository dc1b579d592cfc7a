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
	require.Len(t, docs, 3, "two module READMEs and the targets reference")
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
