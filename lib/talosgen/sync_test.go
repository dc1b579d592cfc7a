package talosgen_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
)

// repo is a repository with the project's .sops.yaml (its recipients
// replaced by a test key) and Talos patches.
type repo struct {
	root string
	id   *age.X25519Identity
}

func newRepo(t *testing.T) *repo { return newBenchRepo(t) }

func newBenchRepo(t testing.TB) *repo {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	r := &repo{root: t.TempDir(), id: id}
	conf, err := os.ReadFile(filepath.Join("..", "..", ".sops.yaml"))
	require.NoError(t, err)
	text := regexp.MustCompile(`age1[0-9a-z]{58}`).ReplaceAllString(string(conf), id.Recipient().String())
	require.NoError(t, os.WriteFile(filepath.Join(r.root, ".sops.yaml"), []byte(text), 0o644))
	copyDir(t, patchDir, filepath.Join(r.root, talosgen.DefaultPatchDir))
	return r
}

func (r *repo) gen(t *testing.T, inv *inventory.Inventory, mods ...func(*talosgen.SyncOptions)) *talosgen.SyncReport {
	t.Helper()
	res, err := r.try(t, inv, mods...)
	require.NoError(t, err)
	return res
}

func (r *repo) try(t *testing.T, inv *inventory.Inventory, mods ...func(*talosgen.SyncOptions)) (*talosgen.SyncReport, error) {
	t.Helper()
	o := talosgen.SyncOptions{Root: r.root, Secrets: []secrets.Option{secrets.WithIdentities(r.id)}}
	for _, m := range mods {
		m(&o)
	}
	return talosgen.SyncConfigs(t.Context(), inv, o)
}

func actions(res *talosgen.SyncReport) map[string]string {
	out := map[string]string{}
	for _, f := range res.Files {
		out[filepath.Base(f.Path)] = f.Action
	}
	return out
}

func summary(t *testing.T, res *talosgen.SyncReport) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, res.WriteSummary(&b))
	return b.String()
}

func requireMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, want, fi.Mode().Perm(), path)
}

func TestSyncConfigs(t *testing.T) {
	r := newRepo(t)
	inv := loadInventory(t, threeNodesFile)
	out := filepath.Join(r.root, talosgen.DefaultOutDir)
	bundle := filepath.Join(r.root, talosgen.DefaultBundleFile)

	// Dry run: the bundle is made in memory, nothing is written.
	res := r.gen(t, inv, func(o *talosgen.SyncOptions) { o.DryRun = true })
	require.True(t, res.BundleCreated)
	require.Contains(t, summary(t, res), "would create")
	require.Contains(t, summary(t, res), "Dry run: nothing was written.")
	require.NoFileExists(t, bundle)
	require.NoDirExists(t, out)

	// First run: bundle encrypted, configs and talosconfig 0600 in a 0700 directory.
	res = r.gen(t, inv)
	require.True(t, res.BundleCreated)
	require.Equal(t, map[string]string{"talos-cp-01.yaml": "create", "talos-cp-02.yaml": "create", "talos-cp-03.yaml": "create",
		"talos-gpu-01.yaml": "create", "talosconfig": "create"}, actions(res))
	requireMode(t, out, 0o700)
	for _, f := range res.Files {
		requireMode(t, f.Path, 0o600)
	}
	requireMode(t, bundle, 0o600)
	enc, err := os.ReadFile(bundle)
	require.NoError(t, err)
	require.Contains(t, string(enc), "ENC[AES256_GCM,")
	require.NotContains(t, string(enc), "LS0tLS1CRUdJTi", "the bundle is never written in plaintext")
	// With the project's .gitignore, the guard sees the encrypted bundle
	// (MAC verified) and not the configs, which are ignored.
	testtool.Require(t, "git")
	require.NoError(t, os.WriteFile(filepath.Join(r.root, ".gitignore"), mustRead(t, filepath.Join("..", "..", ".gitignore")), 0o644))
	require.NoError(t, exec.Command("git", "-C", r.root, "init", "-q").Run())
	rep, err := secrets.Check(t.Context(), r.root, secrets.WithIdentities(r.id))
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	require.Equal(t, []string{talosgen.DefaultBundleFile}, rep.Encrypted)

	// The configs use the bundle that was saved.
	saved, err := talosgen.LoadBundle(bundle, secrets.WithIdentities(r.id))
	require.NoError(t, err)
	cp1, err := os.ReadFile(filepath.Join(out, "talos-cp-01.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(cp1), saved.Secrets.BootstrapToken)
	talosconfig, err := os.ReadFile(filepath.Join(out, talosgen.TalosconfigFile))
	require.NoError(t, err)

	// Second run: nothing to do, the talosconfig kept as it is.
	res = r.gen(t, inv)
	require.False(t, res.Changed())
	require.Contains(t, summary(t, res), "Nothing to do: the 4 config(s) and the talosconfig are up to date.")
	again, err := os.ReadFile(filepath.Join(out, talosgen.TalosconfigFile))
	require.NoError(t, err)
	require.Equal(t, talosconfig, again)

	// A changed fact: only the configs change, with a diff that never shows a secret.
	inv.Network.NTPServers = []string{"ntp.home-infra.net"}
	res = r.gen(t, inv, func(o *talosgen.SyncOptions) { o.DryRun = true })
	require.Equal(t, "update", actions(res)["talos-cp-01.yaml"])
	require.Equal(t, "unchanged", actions(res)["talosconfig"])
	text := summary(t, res)
	require.Contains(t, text, "-        - time.cloudflare.com\n+        - ntp.home-infra.net")
	require.NotContains(t, text, saved.Secrets.BootstrapToken)
	require.NotContains(t, text, "LS0tLS1CRUdJTi")
	require.Equal(t, cp1, mustRead(t, filepath.Join(out, "talos-cp-01.yaml")), "a dry run writes nothing")
	res = r.gen(t, inv)
	require.Equal(t, "update", actions(res)["talos-cp-01.yaml"])
	require.Contains(t, string(mustRead(t, filepath.Join(out, "talos-cp-01.yaml"))), "ntp.home-infra.net")

	// A node leaves the inventory: its config, which holds secrets, goes too.
	inv.Talos.Nodes = inv.Talos.Nodes[:3]
	res = r.gen(t, inv)
	require.Equal(t, "remove", actions(res)["talos-gpu-01.yaml"])
	require.NoFileExists(t, filepath.Join(out, "talos-gpu-01.yaml"))

	// A talosconfig whose certificate is about to expire is replaced.
	res = r.gen(t, inv, func(o *talosgen.SyncOptions) {
		o.Now = func() time.Time { return time.Now().Add(340 * 24 * time.Hour) }
	})
	require.Equal(t, "update", actions(res)["talosconfig"])
	require.Contains(t, summary(t, res), "its client certificate expires")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func TestSyncConfigsRefusesABundleNobodyHereCanRead(t *testing.T) {
	r := newRepo(t)
	stranger, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	for _, dry := range []bool{true, false} {
		_, err = r.try(t, loadInventory(t, homelabFile), func(o *talosgen.SyncOptions) {
			o.Secrets = []secrets.Option{secrets.WithIdentities(stranger)}
			o.DryRun = dry
		})
		require.ErrorIs(t, err, secrets.ErrNoCallerKey, "dry run %v", dry)
		require.ErrorContains(t, err, "the new Talos secrets bundle was not saved")
		require.ErrorContains(t, err, "the result would be encrypted to "+r.id.Recipient().String())
		require.NoFileExists(t, filepath.Join(r.root, talosgen.DefaultBundleFile))
		require.NoDirExists(t, filepath.Join(r.root, talosgen.DefaultOutDir), "no config is written without a saved bundle")
	}
}

// TestSyncConfigsRefusesPlaceholderRecipients: with the .sops.yaml the
// repository ships, the bundle would go to a key that does not exist.
func TestSyncConfigsRefusesPlaceholderRecipients(t *testing.T) {
	r := newRepo(t)
	conf, err := os.ReadFile(filepath.Join("..", "..", ".sops.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(r.root, ".sops.yaml"), conf, 0o644))
	for _, dry := range []bool{true, false} {
		_, err = r.try(t, loadInventory(t, homelabFile), func(o *talosgen.SyncOptions) { o.DryRun = dry })
		var ph *secrets.PlaceholderError
		require.ErrorAs(t, err, &ph, "dry run %v", dry)
		require.Equal(t, []string{"admin"}, ph.Anchors())
		require.NoFileExists(t, filepath.Join(r.root, talosgen.DefaultBundleFile))
		require.NoDirExists(t, filepath.Join(r.root, talosgen.DefaultOutDir))
	}
}

func TestSyncConfigsWithAnUnreadableBundle(t *testing.T) {
	r := newRepo(t)
	inv := loadInventory(t, homelabFile)
	r.gen(t, inv)
	stranger, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	_, err = r.try(t, inv, func(o *talosgen.SyncOptions) { o.Secrets = []secrets.Option{secrets.WithIdentities(stranger)} })
	require.ErrorContains(t, err, "decrypt the Talos secrets bundle")
	require.ErrorContains(t, err, "no age identity matches recipients")
}

func TestBundleRoundTrip(t *testing.T) {
	b := fixtureBundle(t)
	data, err := talosgen.MarshalBundle(b)
	require.NoError(t, err)
	back, err := talosgen.UnmarshalBundle(data)
	require.NoError(t, err)
	require.Equal(t, b.Secrets, back.Secrets)
	require.Equal(t, b.Certs, back.Certs)
	_, err = talosgen.UnmarshalBundle([]byte("cluster:\n  id: x\n"))
	require.ErrorContains(t, err, "incomplete bundle")
	require.True(t, strings.HasPrefix(string(data), "cluster:"))
}
