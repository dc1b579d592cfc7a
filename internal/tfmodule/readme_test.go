package tfmodule_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/tfmodule"
)

var update = flag.Bool("update", false, "rewrite the generated part of each module's README.md")

// modulesDir holds the repository's Terraform modules.
var modulesDir = filepath.Join("..", "..", "terraform", "modules")

// TestREADMEsAreFresh holds each module's README to its variables and
// outputs; -update rewrites them.
func TestREADMEsAreFresh(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(modulesDir, "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want, err := tfmodule.README(dir)
			require.NoError(t, err)
			path := filepath.Join(dir, "README.md")
			if *update {
				require.NoError(t, os.WriteFile(path, want, 0o644))
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s drifted from the module: run go test ./internal/tfmodule -update", path)
		})
	}
}

func TestREADME(t *testing.T) {
	got, err := tfmodule.README(filepath.Join("testdata", "parse", "ok"))
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join("testdata", "parse", "ok", "README.golden.md"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

// TestErrors names what is wrong with a module or its README, and where.
func TestErrors(t *testing.T) {
	parse := func(dir string) error { _, err := tfmodule.Parse(dir); return err }
	readme := func(dir string) error { _, err := tfmodule.README(dir); return err }
	tests := []struct {
		name string
		call func(dir string) error
		dir  string
		want string
	}{
		{name: "README without markers", call: readme, dir: "nodescription", want: "has no generated part"},
		{name: "no README", call: readme, dir: "empty", want: "README.md: no such file"},
		{name: "no description", call: parse, dir: "nodescription", want: `variable "x" at testdata/parse/nodescription/main.tf:1,1-13 has no description`},
		{name: "templated description", call: parse, dir: "templated", want: `variable "x" at testdata/parse/templated/main.tf:1,1-13: the description must be a plain string`},
		{name: "syntax error", call: parse, dir: "syntax", want: "testdata/parse/syntax/main.tf:"},
		{name: "no .tf files", call: parse, dir: "empty", want: "no *.tf files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorContains(t, tt.call(filepath.Join("testdata", "parse", tt.dir)), tt.want)
		})
	}
}
