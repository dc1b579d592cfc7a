package cloudimage_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/cloudimage"
)

func TestParseSums(t *testing.T) {
	h64, h128 := strings.Repeat("ab", 32), strings.Repeat("cd", 64)
	tests := []struct {
		name, data, algo string
		want             map[string]string
		err              string
	}{
		{"Ubuntu SHA256SUMS, binary marker", h64 + " *ubuntu-24.04-server-cloudimg-amd64.img\n" + h64 + " *ubuntu-24.04-server-cloudimg-arm64.img\n", "sha256",
			map[string]string{"ubuntu-24.04-server-cloudimg-amd64.img": h64, "ubuntu-24.04-server-cloudimg-arm64.img": h64}, ""},
		{"Debian SHA512SUMS, text mode", h128 + "  debian-13-genericcloud-amd64-20261118-2301.qcow2\n", "sha512",
			map[string]string{"debian-13-genericcloud-amd64-20261118-2301.qcow2": h128}, ""},
		{"Arch .SHA256, upper-case hex, CRLF", strings.ToUpper(h64) + "  Arch-Linux-x86_64-cloudimg-20261101.412345.qcow2\r\n", "sha256",
			map[string]string{"Arch-Linux-x86_64-cloudimg-20261101.412345.qcow2": h64}, ""},
		{"BSD style, comments and blank lines", "# Fedora-style\n\nSHA256 (a b.qcow2) = " + h64 + "\n", "sha256", map[string]string{"a b.qcow2": h64}, ""},
		{"empty file", "", "sha256", map[string]string{}, ""},
		{"BSD line of another algorithm", "SHA512 (a.qcow2) = " + h128 + "\n", "sha256", nil, "line 1: SHA512 sum in a sha256 file"},
		{"sha256 sum in a SHA512SUMS", h64 + "  a.qcow2\n", "sha512", nil, "is not a sha512 sum (128 hex digits)"},
		{"not hex", strings.Repeat("zz", 32) + "  a.qcow2\n", "sha256", nil, "line 1: \"zzzz"},
		{"one space only", h64 + " a.qcow2\n", "sha256", nil, "is neither \"<hex>  <file>\" nor"},
		{"no file", h64 + " *\n", "sha256", nil, "line 1: no file name"},
		{"a line of prose", "hello\n", "sha256", nil, "line 1: \"hello\" is neither"},
		{"listed twice with different sums", h64 + "  a\n" + strings.Repeat("0", 64) + "  a\n", "sha256", nil, "line 2: a listed twice with different sums"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cloudimage.ParseSums([]byte(tt.data), tt.algo)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
