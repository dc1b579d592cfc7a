package secrets_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/secrets"
)

// freshClone is a repository as a fresh clone has it: the repository's own
// .sops.yaml, placeholder recipients and all, and no age key anywhere (an
// empty HOME, no SOPS_AGE_KEY or SOPS_AGE_KEY_FILE, no XDG_CONFIG_HOME).
func freshClone(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	conf, err := os.ReadFile(filepath.Join("..", "..", ".sops.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, ".sops.yaml"), conf, 0o644))
	// The tool cache stays where it was: tests run the sops CLI built there.
	cache, err := toolchain.CacheDir()
	require.NoError(t, err)
	t.Setenv(toolchain.EnvCache, cache)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	return root
}

// writeFile creates a file under root and returns its path.
func writeFile(t *testing.T, root, rel, content string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// TestAFreshCloneDestroysNoPlaintext reproduces the data loss of issue 10:
// with the placeholder recipients the repository ships and no age key,
// encrypting in place and editing used to succeed, replacing the plaintext
// with ciphertext nobody can ever open. Every one of them is refused now,
// names the placeholder to replace, and leaves the disk as it was.
func TestAFreshCloneDestroysNoPlaintext(t *testing.T) {
	root := freshClone(t)
	files := map[string]string{
		"secrets/proxmox.enc.yaml":           proxmoxSecrets,
		"secrets/talos-secrets.enc.yaml":     "cluster:\n  id: abc\n  secret: def\n",
		"kubernetes/apps/media/nas.enc.yaml": secretManifest,
	}
	for rel, plain := range files {
		t.Run("encrypt "+rel, func(t *testing.T) {
			path := writeFile(t, root, rel, plain)
			for _, opts := range [][]secrets.Option{nil, {secrets.WithDryRun()}} {
				_, err := secrets.EncryptFile(path, opts...)
				require.Equal(t, plain, readFile(t, path), "the plaintext is untouched")
				require.ErrorIs(t, err, secrets.ErrPlaceholder)
				require.ErrorContains(t, err, fmt.Sprintf("placeholder recipient(s) &admin (%s, line %d)", secrets.PlaceholderAdmin, anchorLine(t, "admin")))
				require.ErrorContains(t, err, "nothing was written")
			}
			var ph *secrets.PlaceholderError
			_, err := secrets.EncryptFile(path)
			require.ErrorAs(t, err, &ph)
			require.True(t, ph.FromRule)
			require.Equal(t, filepath.Join(root, ".sops.yaml"), ph.Config)
			if strings.HasPrefix(rel, "kubernetes/") {
				require.Equal(t, []string{"admin", "cluster"}, ph.Anchors())
			} else {
				require.Equal(t, []string{"admin"}, ph.Anchors())
			}
		})
	}

	t.Run("edit a new file: refused before the editor opens", func(t *testing.T) {
		cmd, log := editor(t, `echo 'password: typed-in' > "$f"`)
		path := filepath.Join(root, "secrets", "new.enc.yaml")
		for _, opts := range [][]secrets.Option{nil, {secrets.WithDryRun()}} {
			_, err := secrets.Edit(t.Context(), path, secrets.EditOptions{Editor: cmd}, opts...)
			require.NoFileExists(t, log, "the editor never ran: nobody typed a secret that could not be saved")
			require.NoFileExists(t, path)
			require.ErrorIs(t, err, secrets.ErrPlaceholder)
		}
	})

	t.Run("in-memory encryption refuses them too", func(t *testing.T) {
		_, err := secrets.Encrypt(filepath.Join(root, "secrets", "x.enc.yaml"), []byte("a: b\n"))
		require.ErrorIs(t, err, secrets.ErrPlaceholder)
		err = secrets.WriteEncrypted(filepath.Join(root, "secrets", "x.enc.yaml"), []byte("a: b\n"))
		require.ErrorIs(t, err, secrets.ErrPlaceholder)
		require.NoFileExists(t, filepath.Join(root, "secrets", "x.enc.yaml"))
	})
}

// TestEncryptRefusesWhatNoKeyYouHoldOpens: real recipients, but none is a
// key the caller holds. The plaintext is replaced only once the ciphertext
// has been opened with the caller's key.
func TestEncryptRefusesWhatNoKeyYouHoldOpens(t *testing.T) {
	f := newFixture(t) // the environment holds no key
	stranger := newIdentity(t)
	path := f.write(t, "secrets/nas.enc.yaml", "password: hunter2-but-longer\n")

	_, err := secrets.EncryptFile(path, secrets.WithIdentities(stranger))
	require.Equal(t, "password: hunter2-but-longer\n", readFile(t, path), "the plaintext is untouched")
	var u *secrets.UnreadableResultError
	require.ErrorAs(t, err, &u)
	require.ErrorIs(t, err, secrets.ErrNoCallerKey)
	require.Equal(t, path, u.Path)
	require.Equal(t, []string{f.admin.Recipient().String()}, u.Recipients)
	require.Equal(t, []string{stranger.Recipient().String()}, u.Identities)
	require.ErrorContains(t, err, "nothing was written and the file is unchanged")
	require.NotContains(t, err.Error(), stranger.String(), "never the private key")
	require.Equal(t, "password: hunter2-but-longer\n", readFile(t, path))

	_, err = secrets.EncryptFile(path)
	require.ErrorIs(t, err, secrets.ErrNoCallerKey, "no key at all")
	require.ErrorIs(t, err, secrets.ErrNoKey)
	require.ErrorContains(t, err, "no-such-key.txt does not exist")
	require.Equal(t, "password: hunter2-but-longer\n", readFile(t, path))

	_, err = secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	plain, err := secrets.DecryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.Equal(t, "password: hunter2-but-longer\n", string(plain))

	t.Run("edit of a new file whose rule lists no key you hold: refused before the editor", func(t *testing.T) {
		cmd, log := editor(t, `echo 'password: typed-in' > "$f"`)
		_, err := secrets.Edit(t.Context(), f.path("secrets/new.enc.yaml"), secrets.EditOptions{Editor: cmd}, secrets.WithIdentities(stranger))
		require.ErrorIs(t, err, secrets.ErrNoCallerKey)
		require.NoFileExists(t, log)
		require.NoFileExists(t, f.path("secrets/new.enc.yaml"))
	})

	t.Run("WriteEncrypted proves the same, and never replaces a file", func(t *testing.T) {
		target := f.path("secrets/bundle.enc.yaml")
		require.ErrorIs(t, secrets.WriteEncrypted(target, []byte("a: b\n"), secrets.WithIdentities(stranger)), secrets.ErrNoCallerKey)
		require.NoFileExists(t, target)
		require.NoError(t, secrets.WriteEncrypted(target, []byte("a: b\n"), secrets.WithIdentities(f.admin), secrets.WithDryRun()))
		require.NoFileExists(t, target, "a dry run writes nothing")
		require.NoError(t, secrets.WriteEncrypted(target, []byte("a: b\n"), secrets.WithIdentities(f.admin)))
		requireMode(t, target, 0o600)
		require.ErrorIs(t, secrets.WriteEncrypted(target, []byte("c: d\n"), secrets.WithIdentities(f.admin)), fs.ErrExist)
		plain, err := secrets.DecryptFile(target, secrets.WithIdentities(f.admin))
		require.NoError(t, err)
		require.Equal(t, "a: b\n", string(plain))
	})
}

// TestUpdateKeysRefusesToLockYouOut: .sops.yaml's &admin now names a key
// the caller does not hold. Re-keying would leave the caller with a file
// they cannot open; it is refused and the file stays byte for byte.
func TestUpdateKeysRefusesToLockYouOut(t *testing.T) {
	f := newFixture(t)
	path := f.write(t, "secrets/nas.enc.yaml", "password: hunter2-but-longer\n")
	_, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	before := readFile(t, path)

	other := newIdentity(t)
	conf := readFile(t, f.path(".sops.yaml"))
	f.write(t, ".sops.yaml", strings.Replace(conf, f.admin.Recipient().String(), other.Recipient().String(), 1))

	for _, opts := range [][]secrets.Option{nil, {secrets.WithDryRun()}} {
		_, err = secrets.UpdateKeys(path, append(opts, secrets.WithIdentities(f.admin))...)
		require.Equal(t, before, readFile(t, path), "the file is untouched")
		var u *secrets.UnreadableResultError
		require.ErrorAs(t, err, &u)
		require.Equal(t, []string{other.Recipient().String()}, u.Recipients)
	}
	res, err := secrets.UpdateAllKeys(t.Context(), f.root, secrets.WithIdentities(f.admin))
	require.ErrorIs(t, err, secrets.ErrNoCallerKey)
	require.Len(t, res, 1)
	require.ErrorIs(t, res[0].Err, secrets.ErrNoCallerKey)
	require.Equal(t, before, readFile(t, path))
}

// TestRotateRefusesAFileNotYetRekeyed: after a recipient is removed from
// .sops.yaml, rotating before re-keying would give the new data key to the
// removed recipient too. Rotate refuses; updatekeys says who was removed.
func TestRotateRefusesAFileNotYetRekeyed(t *testing.T) {
	f := newFixture(t)
	laptop := newIdentity(t)
	conf := readFile(t, f.path(".sops.yaml"))
	rule := "  - path_regex: (^|/)secrets/[^/]+\\.enc\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n"
	require.Contains(t, conf, rule)
	f.write(t, ".sops.yaml", strings.Replace(conf, rule, rule+"          - "+laptop.Recipient().String()+"\n", 1))
	path := f.write(t, "secrets/nas.enc.yaml", "password: hunter2-but-longer\n")
	_, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	f.write(t, ".sops.yaml", conf) // the laptop is gone
	before := readFile(t, path)

	err = secrets.Rotate(path, secrets.WithIdentities(f.admin))
	require.Equal(t, before, readFile(t, path), "the file is untouched")
	require.ErrorIs(t, err, secrets.ErrStaleRecipient)
	require.ErrorContains(t, err, laptop.Recipient().String())

	res, err := secrets.UpdateAllKeys(t.Context(), f.root, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.True(t, res[0].Changed)
	require.Equal(t, []string{laptop.Recipient().String()}, res[0].Removed)
	require.Empty(t, res[0].Added)

	require.NoError(t, secrets.Rotate(path, secrets.WithIdentities(f.admin)))
	_, err = secrets.DecryptFile(path, secrets.WithIdentities(laptop))
	require.ErrorAs(t, err, new(*secrets.NoIdentityError))
}

// TestEveryReplacingOperationRefusesPlaceholders: a file already encrypted
// to a placeholder (by an older version, or the sops CLI) still opens with
// the admin key, but editing, re-keying or rotating it would keep
// encrypting to a key that does not exist: each is refused, naming the
// placeholder, and the file stays as it was.
func TestEveryReplacingOperationRefusesPlaceholders(t *testing.T) {
	f := newFixture(t)
	path := f.write(t, "kubernetes/apps/nas.enc.yaml", secretManifest)
	_, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	cluster := f.cluster.Recipient().String()
	f.write(t, "kubernetes/apps/nas.enc.yaml", strings.ReplaceAll(readFile(t, path), cluster, secrets.PlaceholderCluster))
	f.write(t, ".sops.yaml", strings.ReplaceAll(readFile(t, f.path(".sops.yaml")), cluster, secrets.PlaceholderCluster))
	before := readFile(t, path)
	_, err = secrets.DecryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err, "the admin key still opens it")

	cmd, log := editor(t, `sed -i 's/wdiaz/someone/' "$f"`)
	ops := map[string]func() error{
		"edit": func() error {
			_, err := secrets.Edit(t.Context(), path, secrets.EditOptions{Editor: cmd}, secrets.WithIdentities(f.admin))
			return err
		},
		"rotate": func() error { return secrets.Rotate(path, secrets.WithIdentities(f.admin)) },
		"updatekeys": func() error {
			// The rule now lists the admin key twice, so the recipients differ.
			f.write(t, ".sops.yaml", strings.Replace(readFile(t, f.path(".sops.yaml")), "          - *cluster\n", "          - *cluster\n      - age:\n          - *admin\n", 1))
			_, err := secrets.UpdateKeys(path, secrets.WithIdentities(f.admin))
			return err
		},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			err := op()
			require.Equal(t, before, readFile(t, path), "the file is untouched")
			var ph *secrets.PlaceholderError
			require.ErrorAs(t, err, &ph)
			require.Equal(t, []string{"cluster"}, ph.Anchors())
			require.ErrorContains(t, err, secrets.PlaceholderCluster)
		})
	}
	require.NoFileExists(t, log, "the editor never opened")
}

// TestEncryptForOthers: encrypting deliberately for others only keeps the
// plaintext untouched and writes the ciphertext beside it, under a name the
// creation rules match, never over an existing file.
func TestEncryptForOthers(t *testing.T) {
	f := newFixture(t) // the caller holds no key: the admin key is someone else's
	plain := f.write(t, "secrets/nas.dec.yaml", "password: hunter2-but-longer\n")

	_, err := secrets.EncryptFile(plain, secrets.WithForOthers(), secrets.WithDryRun())
	require.NoError(t, err)
	require.NoFileExists(t, f.path("secrets/nas.enc.yaml"), "a dry run writes nothing")

	recipients, err := secrets.EncryptFile(plain, secrets.WithForOthers())
	require.NoError(t, err)
	require.Equal(t, []string{f.admin.Recipient().String()}, recipients)
	require.Equal(t, "password: hunter2-but-longer\n", readFile(t, plain), "the plaintext is untouched")
	requireMode(t, f.path("secrets/nas.enc.yaml"), 0o600)
	got, err := secrets.DecryptFile(f.path("secrets/nas.enc.yaml"), secrets.WithIdentities(f.admin))
	require.NoError(t, err, "the recipient opens it")
	require.Equal(t, "password: hunter2-but-longer\n", string(got))

	before := readFile(t, f.path("secrets/nas.enc.yaml"))
	_, err = secrets.EncryptFile(plain, secrets.WithForOthers())
	require.ErrorIs(t, err, fs.ErrExist, "an existing ciphertext is never replaced")
	require.Equal(t, before, readFile(t, f.path("secrets/nas.enc.yaml")))

	_, err = secrets.EncryptFile(f.write(t, "secrets/proxmox.enc.yaml", proxmoxSecrets), secrets.WithForOthers())
	require.ErrorIs(t, err, secrets.ErrNameForOthers)
	require.ErrorContains(t, err, "rename it to "+f.path("secrets/proxmox.dec.yaml"))

	_, err = secrets.EncryptFile(f.write(t, "docs/notes.yaml", "a: b\n"), secrets.WithForOthers())
	require.ErrorIs(t, err, secrets.ErrNoRule, "the ciphertext's name must match a creation rule")

	root := freshClone(t)
	_, err = secrets.EncryptFile(writeFile(t, root, "secrets/nas.dec.yaml", "a: b\n"), secrets.WithForOthers())
	require.ErrorIs(t, err, secrets.ErrPlaceholder, "placeholders are refused for others too")
	require.NoFileExists(t, filepath.Join(root, "secrets", "nas.enc.yaml"))
}

func TestForOthersPath(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "secrets/nas.dec.yaml", want: "secrets/nas.enc.yaml"},
		{in: "secrets/nas.yaml", want: "secrets/nas.enc.yaml"},
		{in: "kubernetes/apps/nas.dec.json", want: "kubernetes/apps/nas.enc.json"},
		{in: "secrets/nas.enc.yaml", wantErr: "rename it to secrets/nas.dec.yaml"},
		{in: "secrets/.dec.yaml", wantErr: "has no name before its extension"},
	}
	for _, tt := range tests {
		got, err := secrets.ForOthersPath(tt.in)
		if tt.wantErr != "" {
			require.ErrorIs(t, err, secrets.ErrNameForOthers, tt.in)
			require.ErrorContains(t, err, tt.wantErr)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got)
	}
}
