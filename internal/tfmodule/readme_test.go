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

func TestREADMEErrors(t *testing.T) {
	tests := []struct {
		dir  string
		want string
	}{
		{dir: "nodescription", want: "has no generated part"},
		{dir: "empty", want: "README.md: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := tfmodule.README(filepath.Join("testdata", "parse", tt.dir))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		dir  string
		want string
	}{
		{dir: "nodescription", want: `variable "x" at testdata/parse/nodescription/main.tf:1,1-13 has no description`},
		{dir: "templated", want: `variable "x" at testdata/parse/templated/main.tf:1,1-13: the description must be a plain string`},
		{dir: "syntax", want: "testdata/parse/syntax/main.tf:"},
		{dir: "empty", want: "no *.tf files"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := tfmodule.Parse(filepath.Join("testdata", "parse", tt.dir))
			require.ErrorContains(t, err, tt.want)
		})
	}
}
