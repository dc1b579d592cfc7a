package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/lib/secrets"
)

// leaves returns every scalar of a YAML document by dotted key path,
// leaving out the sops metadata.
func leaves(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &root))
	out := map[string]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for i, c := range n.Content {
				p := path
				if n.Kind == yaml.SequenceNode {
					p += "." + string(rune('0'+i))
				}
				walk(c, p)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if path == "" && n.Content[i].Value == "sops" {
					continue
				}
				walk(n.Content[i+1], strings.TrimPrefix(path+"."+n.Content[i].Value, "."))
			}
		case yaml.ScalarNode:
			out[path] = n.Value
		}
	}
	walk(&root, "")
	return out
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		plain     string
		encrypted []string // leaves that must be ciphertext; all others stay plaintext
		all       bool     // every leaf is ciphertext
	}{
		{
			name:      "Kubernetes Secret: only data and stringData",
			path:      "kubernetes/apps/media/nas-credentials.enc.yaml",
			plain:     secretManifest,
			encrypted: []string{"stringData.username", "stringData.password", "data.token"},
		},
		{name: "generic secrets file: every value", path: "secrets/proxmox.enc.yaml", plain: proxmoxSecrets, all: true},
		{name: "Talos secrets bundle: every value", path: "secrets/talos-secrets.enc.yaml", plain: "cluster:\n  id: abc\n  secret: def\n", all: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path := f.path(tt.path)
			enc, err := secrets.Encrypt(path, []byte(tt.plain))
			require.NoError(t, err)

			got := leaves(t, enc)
			for key, value := range leaves(t, []byte(tt.plain)) {
				isCipher := strings.HasPrefix(got[key], "ENC[AES256_GCM,")
				want := tt.all || contains(tt.encrypted, key)
				require.Equal(t, want, isCipher, "%s: ciphertext=%v, got %q", key, isCipher, got[key])
				if !want {
					require.Equal(t, value, got[key])
				}
			}
			require.NotContains(t, string(enc), "correct-horse-battery-staple")
			require.NotContains(t, string(enc), "not-a-real-token-secret")

			plain, err := secrets.Decrypt(path, enc, secrets.WithIdentities(f.admin))
			require.NoError(t, err)
			require.Equal(t, tt.plain, string(plain), "byte-identical after the round trip")
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRecipientsFollowTheRule(t *testing.T) {
	f := newFixture(t)
	k8s, err := secrets.Encrypt(f.path("kubernetes/apps/a.enc.yaml"), []byte(secretManifest))
	require.NoError(t, err)
	_, err = secrets.Decrypt(f.path("kubernetes/apps/a.enc.yaml"), k8s, secrets.WithIdentities(f.cluster))
	require.NoError(t, err, "the cluster key opens Kubernetes secrets (Flux decrypts them)")

	talos, err := secrets.Encrypt(f.path("secrets/talos-secrets.enc.yaml"), []byte("a: b\n"))
	require.NoError(t, err)
	_, err = secrets.Decrypt(f.path("secrets/talos-secrets.enc.yaml"), talos, secrets.WithIdentities(f.cluster))
	var noID *secrets.NoIdentityError
	require.ErrorAs(t, err, &noID, "the cluster key does not open the Talos bundle")
	require.Equal(t, []string{f.admin.Recipient().String()}, noID.Recipients)
}

func TestDecryptKeySources(t *testing.T) {
	f := newFixture(t)
	path := f.path("secrets/proxmox.enc.yaml")
	enc, err := secrets.Encrypt(path, []byte(proxmoxSecrets))
	require.NoError(t, err)
	other := newIdentity(t)

	tests := []struct {
		name    string
		env     map[string]string
		opts    []secrets.Option
		wantErr string
	}{
		{name: "in-memory identity", opts: []secrets.Option{secrets.WithIdentities(other, f.admin)}},
		{name: "SOPS_AGE_KEY", env: map[string]string{"SOPS_AGE_KEY": f.admin.String()}},
		{name: "SOPS_AGE_KEY beats the key file", env: map[string]string{"SOPS_AGE_KEY": f.admin.String(), "SOPS_AGE_KEY_FILE": f.keyFile(t, other)}},
		{name: "SOPS_AGE_KEY_FILE", env: map[string]string{"SOPS_AGE_KEY_FILE": f.keyFile(t, other, f.admin)}},
		{name: "default key file under XDG_CONFIG_HOME", env: map[string]string{"SOPS_AGE_KEY_FILE": "", "XDG_CONFIG_HOME": xdgWithKey(t, f.admin)}},
		{name: "in-memory identity wins over the environment", env: map[string]string{"SOPS_AGE_KEY": f.admin.String()},
			opts: []secrets.Option{secrets.WithIdentities(other)}, wantErr: "no age identity matches recipients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			plain, err := secrets.Decrypt(path, enc, tt.opts...)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, proxmoxSecrets, string(plain))
		})
	}
}

func xdgWithKey(t *testing.T, id *age.X25519Identity) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sops", "age"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sops", "age", "keys.txt"), []byte(id.String()+"\n"), 0o600))
	return dir
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	path := f.path("kubernetes/apps/media/nas.enc.yaml")
	enc, err := secrets.Encrypt(path, []byte(secretManifest))
	require.NoError(t, err)
	stranger := newIdentity(t)

	t.Run("wrong key lists the recipients and the key tried", func(t *testing.T) {
		_, err := secrets.Decrypt(path, enc, secrets.WithIdentities(stranger))
		var noID *secrets.NoIdentityError
		require.ErrorAs(t, err, &noID)
		require.ErrorContains(t, err, path+": no age identity matches recipients "+
			f.admin.Recipient().String()+", "+f.cluster.Recipient().String())
		require.ErrorContains(t, err, "tried the keys of "+stranger.Recipient().String())
		require.ErrorContains(t, err, "add your public key to its rule in .sops.yaml and re-key it")
		require.NotContains(t, err.Error(), stranger.String(), "never the private key")
	})

	tampers := []struct {
		name    string
		from    string
		to      string
		wantErr error
		msg     string
	}{
		{name: "plaintext field changed", from: "name: nas-credentials", to: "name: nas-credentialz", wantErr: secrets.ErrMACMismatch, msg: "it was changed without sops; restore it from git"},
		{name: "encrypted entry removed", from: "  token: ENC[", to: "  tokenx: ENC[", msg: ":12: changed without sops: the value of data.tokenx does not authenticate"},
	}
	for _, tc := range tampers {
		t.Run("tampered: "+tc.name, func(t *testing.T) {
			require.Contains(t, string(enc), tc.from)
			bad := strings.Replace(string(enc), tc.from, tc.to, 1)
			_, err := secrets.Decrypt(path, []byte(bad), secrets.WithIdentities(f.admin))
			require.ErrorIs(t, err, secrets.ErrTampered)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			}
			require.ErrorContains(t, err, path)
			require.ErrorContains(t, err, tc.msg)
		})
	}

	t.Run("no matching creation rule names the file and the config", func(t *testing.T) {
		_, err := secrets.Encrypt(f.path("docs/notes.yaml"), []byte("a: b\n"))
		require.ErrorIs(t, err, secrets.ErrNoRule)
		require.ErrorContains(t, err, f.path(".sops.yaml"))
		require.ErrorContains(t, err, f.path("docs/notes.yaml"))
	})

	t.Run("missing key file names it and says how to make one", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "absent.txt")
		t.Setenv("SOPS_AGE_KEY_FILE", missing)
		_, err := secrets.Decrypt(path, enc)
		require.ErrorIs(t, err, secrets.ErrNoKey)
		require.ErrorContains(t, err, "SOPS_AGE_KEY_FILE="+missing+" does not exist")
		require.ErrorContains(t, err, "create a key there")
	})

	t.Run("plaintext is not decrypted", func(t *testing.T) {
		_, err := secrets.Decrypt(path, []byte(secretManifest), secrets.WithIdentities(f.admin))
		require.ErrorIs(t, err, secrets.ErrNotEncrypted)
	})

	t.Run("an encrypted file is not encrypted twice", func(t *testing.T) {
		_, err := secrets.Encrypt(path, enc)
		require.ErrorContains(t, err, "already encrypted")
	})

	t.Run("unknown formats are refused by name", func(t *testing.T) {
		_, err := secrets.Encrypt(f.path("secrets/token.txt"), []byte("x"))
		require.ErrorContains(t, err, "only YAML and JSON")
	})

	t.Run("no .sops.yaml anywhere above", func(t *testing.T) {
		_, err := secrets.Encrypt(filepath.Join("/", "nonexistent-dir", "a.enc.yaml"), []byte("a: b\n"))
		require.ErrorContains(t, err, "no .sops.yaml in its directory or above it")
	})
}

func TestFilesAreWrittenPrivate(t *testing.T) {
	f := newFixture(t)
	path := f.write(t, "secrets/nas.enc.yaml", "user: wdiaz\npassword: hunter2-but-longer\n")
	recipients, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.Equal(t, []string{f.admin.Recipient().String()}, recipients)
	requireMode(t, path, 0o600)

	out := filepath.Join(t.TempDir(), "nas.yaml")
	require.NoError(t, secrets.DecryptToFile(path, out, secrets.WithIdentities(f.admin)))
	requireMode(t, out, 0o600)
	plain, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "user: wdiaz\npassword: hunter2-but-longer\n", string(plain))

	dry := filepath.Join(t.TempDir(), "dry.yaml")
	require.NoError(t, secrets.DecryptToFile(path, dry, secrets.WithIdentities(f.admin), secrets.WithDryRun()))
	require.NoFileExists(t, dry, "a dry run writes nothing")
}

func TestEncryptFileDryRun(t *testing.T) {
	f := newFixture(t)
	path := f.write(t, "secrets/nas.enc.yaml", "password: hunter2-but-longer\n")
	recipients, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin), secrets.WithDryRun())
	require.NoError(t, err)
	require.Equal(t, []string{f.admin.Recipient().String()}, recipients)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "password: hunter2-but-longer\n", string(data), "a dry run changes nothing")
}

func requireMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, want, fi.Mode().Perm(), "%s mode", path)
}

func TestUpdateKeysAndRotate(t *testing.T) {
	f := newFixture(t)
	path := f.write(t, "secrets/proxmox.enc.yaml", proxmoxSecrets)
	_, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	// Add a second machine's key to the rule: re-key, keep the values.
	laptop := newIdentity(t)
	conf := f.path(".sops.yaml")
	c, err := os.ReadFile(conf)
	require.NoError(t, err)
	added := strings.Replace(string(c), "  - path_regex: (^|/)secrets/[^/]+\\.enc\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n",
		"  - path_regex: (^|/)secrets/[^/]+\\.enc\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n          - "+laptop.Recipient().String()+"\n", 1)
	require.NotEqual(t, string(c), added, "the fixture's rule was found")
	require.NoError(t, os.WriteFile(conf, []byte(added), 0o644))

	_, err = secrets.DecryptFile(path, secrets.WithIdentities(laptop))
	require.Error(t, err, "the new key cannot read the file before updatekeys")

	changed, err := secrets.UpdateKeys(path, secrets.WithIdentities(f.admin), secrets.WithDryRun())
	require.NoError(t, err)
	require.True(t, changed)
	same, _ := os.ReadFile(path)
	require.Equal(t, before, same, "a dry run changes nothing")

	changed, err = secrets.UpdateKeys(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.True(t, changed)
	requireMode(t, path, 0o600)
	plain, err := secrets.DecryptFile(path, secrets.WithIdentities(laptop))
	require.NoError(t, err)
	require.Equal(t, proxmoxSecrets, string(plain))
	after, _ := os.ReadFile(path)
	require.Equal(t, leaves(t, before), leaves(t, after), "the values keep their ciphertext: the data key did not change")

	changed, err = secrets.UpdateKeys(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.False(t, changed, "a second run has nothing to do")

	// Remove it again, then rotate the data key it knew.
	require.NoError(t, os.WriteFile(conf, c, 0o644))
	changed, err = secrets.UpdateKeys(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.True(t, changed)
	_, err = secrets.DecryptFile(path, secrets.WithIdentities(laptop))
	var noID *secrets.NoIdentityError
	require.ErrorAs(t, err, &noID, "the removed key no longer opens the file")

	rekeyed, _ := os.ReadFile(path)
	require.NoError(t, secrets.Rotate(path, secrets.WithIdentities(f.admin)))
	rotated, _ := os.ReadFile(path)
	for k, v := range leaves(t, rekeyed) {
		require.NotEqual(t, v, leaves(t, rotated)[k], "%s is re-encrypted under the new data key", k)
	}
	plain, err = secrets.DecryptFile(path, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.Equal(t, proxmoxSecrets, string(plain))
}

func TestUpdateAllKeys(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"secrets/a.enc.yaml", "secrets/b.enc.yaml"} {
		_, err := secrets.EncryptFile(f.write(t, p, "k: v\n"), secrets.WithIdentities(f.admin))
		require.NoError(t, err)
	}
	k8s := f.write(t, "kubernetes/apps/c.enc.yaml", secretManifest)
	_, err := secrets.EncryptFile(k8s, secrets.WithIdentities(f.admin))
	require.NoError(t, err)

	res, err := secrets.UpdateAllKeys(t.Context(), f.root, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.Len(t, res, 3)
	for _, r := range res {
		require.False(t, r.Changed, "%s: nothing to re-key", r.Path)
	}

	// The cluster key cannot open the admin-only files: those fail, the rest go on.
	res, err = secrets.UpdateAllKeys(t.Context(), f.root, secrets.WithIdentities(f.cluster))
	require.ErrorContains(t, err, "2 of 3 encrypted files could not be re-keyed")
	require.True(t, errors.As(err, new(*secrets.NoIdentityError)))
	require.Len(t, res, 3)
}
