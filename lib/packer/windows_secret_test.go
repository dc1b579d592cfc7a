package packer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/secrets"
)

// testPassword is a made-up password for the tests, with the characters XML
// must escape.
const testPassword = `Test-Only-Pw<&>"'0123`

// sealed writes plain as secrets/windows.enc.yaml of a new repository whose
// .sops.yaml encrypts secrets/ to a test age key, and returns the file and
// the key.
func sealed(t testing.TB, plain string) (string, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	root := t.TempDir()
	conf := "creation_rules:\n  - path_regex: (^|/)secrets/.+\\.enc\\.yaml$\n    key_groups:\n      - age:\n          - " + id.Recipient().String() + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, ".sops.yaml"), []byte(conf), 0o644))
	path := filepath.Join(root, filepath.FromSlash(packer.WindowsSecretFile))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	enc, err := secrets.Encrypt(path, []byte(plain))
	require.NoError(t, err)
	require.NotContains(t, string(enc), "Test-Only-Pw", "the file on disk holds no plaintext")
	require.NoError(t, os.WriteFile(path, enc, 0o600))
	// No key from the developer's machine leaks into a test.
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("SOPS_AGE_KEY_FILE", filepath.Join(root, "no-such-key.txt"))
	return path, id
}

func TestWindowsPassword(t *testing.T) {
	path, id := sealed(t, packer.WindowsPasswordKey+": '"+`Test-Only-Pw<&>"''0123`+"'\nother: x\n")
	pw, err := packer.WindowsPassword(context.Background(), path, secrets.WithIdentities(id))
	require.NoError(t, err)
	require.Equal(t, testPassword, pw.Reveal())
	require.Equal(t, "PKR_VAR_windows_admin_password="+testPassword, pw.Env(packer.WindowsPasswordKey))
}

func TestWindowsPasswordNeverPrinted(t *testing.T) {
	path, id := sealed(t, packer.WindowsPasswordKey+": Test-Only-Pw-0123456\n")
	pw, err := packer.WindowsPassword(context.Background(), path, secrets.WithIdentities(id))
	require.NoError(t, err)
	js, err := json.Marshal(map[string]any{"pw": pw})
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(pw), fmt.Sprintf("%v %+v %#v %s %q", pw, pw, pw, pw, pw), string(js)} {
		require.NotContains(t, out, "Test-Only-Pw")
		require.Contains(t, out, "sensitive")
	}
}

func TestWindowsPasswordRefused(t *testing.T) {
	tests := []struct {
		name  string
		plain string
		is    error
		msg   string
	}{
		{"no key", "other: Test-Only-Pw-0123456\n", packer.ErrNoWindowsPassword, "set the key windows_admin_password"},
		{"empty", "windows_admin_password: ''\n", packer.ErrNoWindowsPassword, "set the key windows_admin_password"},
		{"not a string", "windows_admin_password: 12345678901234567\n", packer.ErrNoWindowsPassword, "set the key windows_admin_password"},
		{"too short", "windows_admin_password: Test-Only-Pw\n", packer.ErrWeakWindowsPassword, "at least 14 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, id := sealed(t, tt.plain)
			_, err := packer.WindowsPassword(context.Background(), path, secrets.WithIdentities(id))
			require.ErrorIs(t, err, tt.is)
			var pe *packer.WindowsPasswordError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, path, pe.File)
			require.Contains(t, err.Error(), path)
			require.Contains(t, err.Error(), tt.msg)
			require.NotContains(t, err.Error(), "Test-Only-Pw", "an error never shows the password")
		})
	}
}

func TestWindowsPasswordUnreadable(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "secrets", "windows.enc.yaml")
		_, err := packer.WindowsPassword(context.Background(), path)
		require.ErrorIs(t, err, os.ErrNotExist)
		require.Contains(t, err.Error(), path+": the Windows admin password's secret file does not exist")
	})
	t.Run("no key for it", func(t *testing.T) {
		path, _ := sealed(t, "windows_admin_password: Test-Only-Pw-0123456\n")
		other, err := age.GenerateX25519Identity()
		require.NoError(t, err)
		_, err = packer.WindowsPassword(context.Background(), path, secrets.WithIdentities(other))
		var ne *secrets.NoIdentityError
		require.ErrorAs(t, err, &ne)
		require.NotContains(t, err.Error(), "Test-Only-Pw")
	})
	t.Run("plaintext file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "windows.enc.yaml")
		require.NoError(t, os.WriteFile(path, []byte("windows_admin_password: Test-Only-Pw-0123456\n"), 0o600))
		_, err := packer.WindowsPassword(context.Background(), path)
		require.ErrorIs(t, err, secrets.ErrNotEncrypted)
		require.NotContains(t, err.Error(), "Test-Only-Pw")
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := packer.WindowsPassword(ctx, "unused")
		require.True(t, errors.Is(err, context.Canceled))
	})
}
