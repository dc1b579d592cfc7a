package terraform_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/terraform"
)

func TestFindBinary(t *testing.T) {
	onPath := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, n := range names {
				if n == name {
					return "/bin/" + name, nil
				}
			}
			return "", fs.ErrNotExist
		}
	}
	tests := []struct {
		name   string
		env    string
		path   []string
		want   string
		errHas string
	}{
		{name: "both: terraform", path: []string{"tofu", "terraform"}, want: "/bin/terraform"},
		{name: "only tofu", path: []string{"tofu"}, want: "/bin/tofu"},
		{name: "only terraform", path: []string{"terraform"}, want: "/bin/terraform"},
		{name: "both, asked for tofu", env: "tofu", path: []string{"tofu", "terraform"}, want: "/bin/tofu"},
		{name: "asked for a path", env: "/opt/tofu", path: []string{"/opt/tofu"}, want: "/bin//opt/tofu"},
		{name: "none", errHas: "install Terraform >= 1.11 (the terraform binary) or OpenTofu (tofu)"},
		{name: "asked for a missing one", env: "tofu", path: []string{"terraform"}, errHas: "no INFRA_TERRAFORM=tofu on PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == terraform.EnvBinary {
					return tt.env
				}
				return ""
			}
			b, err := terraform.FindBinary(getenv, onPath(tt.path...))
			if tt.errHas != "" {
				var nf *terraform.BinaryNotFoundError
				require.True(t, errors.As(err, &nf), "%v", err)
				require.ErrorContains(t, err, tt.errHas)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, b.Path)
		})
	}
}
