package secrets_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/secrets"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sops", "age", "keys.txt")

	_, err := secrets.Keygen(path, secrets.WithDryRun())
	require.NoError(t, err)
	require.NoFileExists(t, path, "a dry run writes nothing")

	pub, err := secrets.Keygen(path)
	require.NoError(t, err)
	requireMode(t, path, 0o600)
	requireMode(t, filepath.Dir(path), 0o700)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), "# public key: "+pub+"\n", "age-keygen's format")
	ids, err := age.ParseIdentities(strings.NewReader(string(data)))
	require.NoError(t, err)
	require.Len(t, ids, 1)
	require.Equal(t, pub, ids[0].(*age.X25519Identity).Recipient().String())

	_, err = secrets.Keygen(path)
	require.ErrorIs(t, err, secrets.ErrKeyExists)
	require.ErrorContains(t, err, path)
	_, err = secrets.Keygen(path, secrets.WithDryRun())
	require.ErrorIs(t, err, secrets.ErrKeyExists, "the dry run says it would refuse too")
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, data, again, "the key is never overwritten")

	// The new key is found where sops looks by default.
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	t.Setenv("XDG_CONFIG_HOME", dir)
	def, err := secrets.DefaultKeyFile()
	require.NoError(t, err)
	require.Equal(t, path, def)
	loaded, err := secrets.LoadIdentities()
	require.NoError(t, err)
	require.Equal(t, pub, loaded[0].(*age.X25519Identity).Recipient().String())
}

// TestKeyFile: the key file is the one SOPS_AGE_KEY_FILE names, else the
// default, as sops and LoadIdentities look for it.
func TestKeyFile(t *testing.T) {
	config := t.TempDir()
	tests := []struct {
		name, keyFile, want string
	}{
		{"the variable names it", filepath.Join(config, "elsewhere.agekey"), filepath.Join(config, "elsewhere.agekey")},
		{"else the default", "", filepath.Join(config, "sops", "age", "keys.txt")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CONFIG_HOME", config)
			t.Setenv("SOPS_AGE_KEY", "")
			t.Setenv("SOPS_AGE_KEY_FILE", tt.keyFile)
			got, err := secrets.KeyFile()
			require.NoError(t, err)
			require.Equal(t, tt.want, got)

			// LoadIdentities reads the same file.
			_, err = secrets.LoadIdentities()
			require.ErrorIs(t, err, secrets.ErrNoKey)
			require.ErrorContains(t, err, tt.want+" does not exist")
			pub, err := secrets.Keygen(got)
			require.NoError(t, err)
			ids, err := secrets.LoadIdentities()
			require.NoError(t, err)
			require.Equal(t, pub, ids[0].(*age.X25519Identity).Recipient().String())
		})
	}
}

func TestLoadIdentitiesErrors(t *testing.T) {
	t.Setenv("SOPS_AGE_KEY", "not a key")
	_, err := secrets.LoadIdentities()
	require.ErrorContains(t, err, "SOPS_AGE_KEY")
	require.NotContains(t, err.Error(), "not a key", "the variable's value is never echoed")

	t.Setenv("SOPS_AGE_KEY", "")
	bad := filepath.Join(t.TempDir(), "keys.txt")
	require.NoError(t, os.WriteFile(bad, []byte("garbage\n"), 0o600))
	t.Setenv("SOPS_AGE_KEY_FILE", bad)
	_, err = secrets.LoadIdentities()
	require.ErrorContains(t, err, "SOPS_AGE_KEY_FILE="+bad)
}
