package tfmodule_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/tfmodule"
)

// TestMarkdown renders a module's inputs and outputs; internal/docgen puts
// them between the markers of its README.
func TestMarkdown(t *testing.T) {
	m, err := tfmodule.Parse(filepath.Join("testdata", "parse", "ok"))
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join("testdata", "parse", "ok", "markdown.golden.md"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(m.Markdown()))
}

// TestErrors names what is wrong with a module, and where.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{name: "no description", dir: "nodescription", want: `variable "x" at testdata/parse/nodescription/main.tf:1,1-13 has no description`},
		{name: "templated description", dir: "templated", want: `variable "x" at testdata/parse/templated/main.tf:1,1-13: the description must be a plain string`},
		{name: "syntax error", dir: "syntax", want: "testdata/parse/syntax/main.tf:"},
		{name: "no .tf files", dir: "empty", want: "no *.tf files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tfmodule.Parse(filepath.Join("testdata", "parse", tt.dir))
			require.ErrorContains(t, err, tt.want)
		})
	}
}
