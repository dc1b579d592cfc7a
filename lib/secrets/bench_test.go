package secrets_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
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

// bigSecrets makes a repository whose rule encrypts *.enc.yaml to a new
// key, and returns that key, the path of big.enc.yaml in it, and a
// plaintext of 200 values for it.
func bigSecrets(b *testing.B) (*age.X25519Identity, string, []byte) {
	b.Helper()
	dir := b.TempDir()
	admin := newIdentity(b)
	conf := "creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: " + admin.Recipient().String() + "\n"
	require.NoError(b, os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(conf), 0o644))
	var plain strings.Builder
	for i := range 200 {
		fmt.Fprintf(&plain, "key%03d: some-secret-value-%d\n", i, i)
	}
	return admin, filepath.Join(dir, "big.enc.yaml"), []byte(plain.String())
}

// BenchmarkDecrypt measures decrypting a secrets file of 200 values in
// memory, MAC verified.
func BenchmarkDecrypt(b *testing.B) {
	admin, path, plain := bigSecrets(b)
	enc, err := secrets.Encrypt(path, plain)
	require.NoError(b, err)
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		_, err := secrets.Decrypt(path, enc, secrets.WithIdentities(admin))
		require.NoError(b, err)
	}
}

// BenchmarkEncryptFile measures encrypting a secrets file of 200 values in
// place, including the proof that the caller's key opens the result.
func BenchmarkEncryptFile(b *testing.B) {
	admin, path, plain := bigSecrets(b)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		require.NoError(b, os.WriteFile(path, plain, 0o600))
		_, err := secrets.EncryptFile(path, secrets.WithIdentities(admin))
		require.NoError(b, err)
	}
}
