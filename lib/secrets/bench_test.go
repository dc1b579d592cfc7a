package secrets_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/secrets"
)

// BenchmarkCheckRepository measures the guard over this repository, the
// cost it adds to every commit and every mage test.
func BenchmarkCheckRepository(b *testing.B) {
	root := filepath.Join("..", "..")
	var files int
	for b.Loop() {
		rep, err := secrets.Check(b.Context(), root)
		require.NoError(b, err)
		files = rep.Scanned
	}
	b.ReportMetric(float64(files), "files/op")
}

// BenchmarkDecrypt measures decrypting a secrets file of 200 values in
// memory, MAC verified.
func BenchmarkDecrypt(b *testing.B) {
	dir := b.TempDir()
	admin := newIdentity(b)
	conf := "creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: " + admin.Recipient().String() + "\n"
	require.NoError(b, os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(conf), 0o644))
	var plain strings.Builder
	for i := range 200 {
		fmt.Fprintf(&plain, "key%03d: some-secret-value-%d\n", i, i)
	}
	path := filepath.Join(dir, "big.enc.yaml")
	enc, err := secrets.Encrypt(path, []byte(plain.String()))
	require.NoError(b, err)
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		_, err := secrets.Decrypt(path, enc, secrets.WithIdentities(admin))
		require.NoError(b, err)
	}
}
