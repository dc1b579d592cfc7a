package secrets_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
)

// sopsCLI returns the real sops CLI, built at the version homelab.yaml's
// tools: lists, which a test of internal/testsuite holds to go.mod's.
func sopsCLI(t *testing.T) string {
	t.Helper()
	tools, err := testsuite.GoTools(filepath.Join("..", "..", inventory.DefaultFile))
	require.NoError(t, err)
	i := slices.IndexFunc(tools, func(g toolchain.GoTool) bool { return g.Command == "sops" })
	require.GreaterOrEqual(t, i, 0, "testsuite.GoTools lists the sops CLI")
	return testtool.RequireGoTool(t, tools[i])
}

// runSops runs the CLI in the fixture's root with the given key file.
func runSops(t *testing.T, f *fixture, keyFile string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(sopsCLI(t), args...)
	cmd.Dir = f.root
	cmd.Env = append(os.Environ(), "SOPS_AGE_KEY_FILE="+keyFile, "SOPS_AGE_KEY=", "SOPS_DISABLE_VERSION_CHECK=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "sops %v: %s", args, stderr.String())
	return out
}

func TestInteropWithTheSopsCLI(t *testing.T) {
	files := []struct{ name, rel, plain string }{
		{"Kubernetes Secret", "kubernetes/apps/media/nas.enc.yaml", secretManifest},
		{"generic secrets", "secrets/proxmox.enc.yaml", proxmoxSecrets},
	}
	for _, tt := range files {
		t.Run(tt.name+": lib/secrets writes, the CLI reads", func(t *testing.T) {
			f := newFixture(t)
			path := f.write(t, tt.rel, tt.plain)
			_, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
			require.NoError(t, err)
			got := runSops(t, f, f.keyFile(t, f.admin), "decrypt", tt.rel)
			require.Equal(t, tt.plain, string(got))
		})
		t.Run(tt.name+": the CLI writes, lib/secrets reads", func(t *testing.T) {
			f := newFixture(t)
			path := f.write(t, tt.rel, tt.plain)
			runSops(t, f, f.keyFile(t, f.admin), "encrypt", "--in-place", tt.rel)
			enc, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Contains(t, string(enc), "ENC[AES256_GCM")

			got, err := secrets.DecryptFile(path, secrets.WithIdentities(f.admin))
			require.NoError(t, err)
			require.Equal(t, tt.plain, string(got))

			// The guard agrees with sops on which values are ciphertext and
			// verifies the CLI's MAC.
			rep, err := secrets.Check(t.Context(), f.root, secrets.WithIdentities(f.admin))
			require.NoError(t, err)
			require.Empty(t, rep.Findings)
			require.Equal(t, []string{tt.rel}, rep.Encrypted)
			require.Empty(t, rep.Unverified)
		})
	}
	t.Run("a file re-keyed by lib/secrets still opens in the CLI", func(t *testing.T) {
		f := newFixture(t)
		path := f.write(t, "secrets/nas.enc.yaml", "password: hunter2-but-longer\n")
		runSops(t, f, f.keyFile(t, f.admin), "encrypt", "--in-place", "secrets/nas.enc.yaml")
		require.NoError(t, secrets.Rotate(path, secrets.WithIdentities(f.admin)))
		got := runSops(t, f, f.keyFile(t, f.admin), "decrypt", "secrets/nas.enc.yaml")
		require.Equal(t, "password: hunter2-but-longer\n", string(got))
	})
	t.Run("a .sops.yaml edited by SetRecipient drives the CLI", func(t *testing.T) {
		f := &fixture{root: freshClone(t), admin: newIdentity(t), cluster: newIdentity(t)}
		conf := f.path(".sops.yaml")
		for anchor, id := range map[string]*age.X25519Identity{"admin": f.admin, "cluster": f.cluster} {
			_, err := secrets.SetRecipient(conf, anchor, id.Recipient().String())
			require.NoError(t, err)
		}
		path := f.write(t, "kubernetes/apps/media/nas.enc.yaml", secretManifest)
		runSops(t, f, f.keyFile(t, f.admin), "encrypt", "--in-place", "kubernetes/apps/media/nas.enc.yaml")
		got, err := secrets.DecryptFile(path, secrets.WithIdentities(f.cluster))
		require.NoError(t, err, "the CLI encrypted to both recipients SetRecipient put in")
		require.Equal(t, secretManifest, string(got))
	})
	t.Run("the guard recognises the CLI's dotenv and INI files as encrypted", func(t *testing.T) {
		f := newFixture(t)
		f.write(t, "secrets/nas.enc.env", "NAS_USER=wdiaz\nNAS_PASSWORD=hunter2-but-longer\n")
		f.write(t, "secrets/nas.enc.ini", "[nas]\npassword = hunter2-but-longer\n")
		pub := f.admin.Recipient().String()
		key := f.keyFile(t, f.admin)
		noRules := f.write(t, "empty.sops.yaml", "")
		runSops(t, f, key, "--config", noRules, "encrypt", "--age", pub, "--in-place", "secrets/nas.enc.env")
		runSops(t, f, key, "--config", noRules, "encrypt", "--age", pub, "--in-place", "secrets/nas.enc.ini")

		rep, err := secrets.Check(t.Context(), f.root)
		require.NoError(t, err)
		require.Empty(t, rep.Findings)
		require.Equal(t, []string{"secrets/nas.enc.env", "secrets/nas.enc.ini"}, rep.Encrypted)
		require.Equal(t, rep.Encrypted, rep.Unverified, "their MACs are not verified here")
	})
}
