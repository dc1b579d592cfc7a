package secrets_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/secrets"
)

// copyTree copies a testdata tree into the fixture.
func (f *fixture) copyTree(t *testing.T, src string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.write(t, filepath.ToSlash(rel), string(data))
		return nil
	}))
}

type spot struct {
	path string
	line int
	rule secrets.Rule
}

func spots(findings []secrets.Finding) []spot {
	var out []spot
	for _, f := range findings {
		out = append(out, spot{f.Path, f.Line, f.Rule})
	}
	return out
}

// TestCheckCatchesTheLeakCorpus runs the guard over testdata/leaks, a
// corpus of plaintext secrets as they get committed by accident. Every file
// must be caught, at the right line.
func TestCheckCatchesTheLeakCorpus(t *testing.T) {
	want := []spot{
		{"age/workstation-identity.txt", 3, secrets.RulePrivateKey},
		{"ansible/group_vars/nas.yml", 1, secrets.RuleToken},
		{"aws/credentials", 2, secrets.RuleToken},
		{"ci/github.env", 1, secrets.RuleToken},
		{"config/proxmox.env", 3, secrets.RuleToken},
		{"docs/api.md", 4, secrets.RuleToken},
		{"keys/admin.ppk", 1, secrets.RulePrivateKey},
		{"kubernetes/apps/grafana/admin-secret.yaml", 7, secrets.RuleSecretManifest},
		{"kubernetes/apps/grafana/admin-secret.yaml", 8, secrets.RuleSecretManifest},
		{"kubernetes/apps/longhorn/backup.yaml", 13, secrets.RuleSecretManifest},
		{"kubernetes/apps/longhorn/backup.yaml", 14, secrets.RuleSecretManifest},
		{"kubernetes/apps/nas/nas-credentials.enc.yaml", 1, secrets.RuleUnencrypted},
		{"kubernetes/apps/nas/nas-credentials.enc.yaml", 8, secrets.RuleSecretManifest},
		{"kubernetes/apps/nas/nas-credentials.enc.yaml", 9, secrets.RuleSecretManifest},
		{"kubernetes/dashboard-token.txt", 1, secrets.RuleToken},
		{"scripts/pve-api.sh", 3, secrets.RuleToken},
		{"secrets/proxmox.enc.yaml", 1, secrets.RuleUnencrypted},
		{"secrets/proxmox.enc.yaml", 3, secrets.RuleToken},
		{"slack/webhook.txt", 1, secrets.RuleToken},
		{"ssh/id_ed25519", 1, secrets.RulePrivateKey},
		{"talos/controlplane.yaml", 4, secrets.RuleToken},
		{"talos/talosconfig-homelab.yaml", 8, secrets.RulePrivateKey},
		{"terraform/terraform.tfvars", 2, secrets.RuleToken},
		{"tls/server.key", 1, secrets.RulePrivateKey},
	}
	f := newFixture(t)
	f.copyTree(t, filepath.Join("testdata", "leaks"))

	rep, err := secrets.Check(t.Context(), f.root)
	require.NoError(t, err)
	require.Equal(t, want, spots(rep.Findings))

	// Every corpus file is caught: a case added without a finding fails here.
	caught := map[string]bool{}
	for _, s := range want {
		caught[s.path] = true
	}
	var files int
	require.NoError(t, filepath.WalkDir(filepath.Join("testdata", "leaks"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
			rel, _ := filepath.Rel(filepath.Join("testdata", "leaks"), p)
			require.True(t, caught[filepath.ToSlash(rel)], "%s is caught", rel)
		}
		return err
	}))
	require.GreaterOrEqual(t, files, 12)

	// Findings name the file and line and never hold the secret itself:
	// no secret-looking word of the line (letters and digits mixed) is in
	// the message.
	for _, finding := range rep.Findings {
		line := strings.Split(readFile(t, f.path(finding.Path)), "\n")[finding.Line-1]
		for _, word := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(" \t\"'=:@!", r) }) {
			if len(word) >= 10 && strings.ContainsAny(word, "0123456789") && strings.ContainsAny(strings.ToLower(word), "abcdefghijklmnopqrstuvwxyz") {
				require.NotContains(t, finding.Message, word, "%s:%d does not echo the secret", finding.Path, finding.Line)
			}
		}
	}
	err = rep.Err()
	var leak *secrets.LeakError
	require.ErrorAs(t, err, &leak)
	require.ErrorContains(t, err, "24 plaintext secret finding(s)")
	require.ErrorContains(t, err, "\n  secrets/proxmox.enc.yaml:1: unencrypted: not encrypted, but the .sops.yaml creation rule path_regex (^|/)secrets/[^/]+\\.enc\\.yaml$ matches it")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// TestCheckIgnoresLookAlikes runs the guard over testdata/clean: public
// keys, placeholders, templates and documentation that only look like
// secrets, a line marked secrets:allow and an allowlisted directory.
func TestCheckIgnoresLookAlikes(t *testing.T) {
	f := newFixture(t)
	f.copyTree(t, filepath.Join("testdata", "clean"))
	rep, err := secrets.Check(t.Context(), f.root)
	require.NoError(t, err)
	require.Empty(t, rep.Findings)
	require.NoError(t, rep.Err())
	require.Equal(t, []string{"vendor/upstream/test-key.pem"}, rep.Allowed)
	require.Empty(t, rep.StaleAllow)
	require.Greater(t, rep.Scanned, 6)
}

// TestCheckRepository runs the guard over this repository, as
// `go run mage.go test` and the pre-commit hook do.
func TestCheckRepository(t *testing.T) {
	rep, err := secrets.Check(t.Context(), filepath.Join("..", ".."))
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	require.Empty(t, rep.StaleAllow, "every entry of .secrets-allow is still needed")
	require.Greater(t, rep.Scanned, 100)
}

func TestCheckEncryptedFiles(t *testing.T) {
	f := newFixture(t)
	good := f.write(t, "kubernetes/apps/media/nas.enc.yaml", secretManifest)
	_, err := secrets.EncryptFile(good, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	enc := readFile(t, good)

	tests := []struct {
		name string
		edit func(string) string
		ids  bool
		want []spot
		// wantUnverified: the MAC could not be checked for lack of a key.
		wantUnverified bool
	}{
		{name: "intact, with the key", edit: func(s string) string { return s }, ids: true},
		{name: "intact, without a key: structure only", edit: func(s string) string { return s }, wantUnverified: true},
		{name: "tampered plaintext field: the MAC says so", ids: true,
			edit: func(s string) string { return strings.Replace(s, "namespace: media", "namespace: default", 1) },
			want: []spot{{"kubernetes/apps/media/nas.enc.yaml", 35, secrets.RuleMACMismatch}}},
		{name: "a value pasted in as plaintext is caught even without a key", wantUnverified: true,
			edit: func(s string) string {
				return strings.Replace(s, "\ndata:\n", "\ndata:\n  extra: plaintext-value\n", 1)
			},
			want: []spot{{"kubernetes/apps/media/nas.enc.yaml", 12, secrets.RuleBrokenEncryption}}},
		{name: "a damaged MAC", wantUnverified: true,
			edit: func(s string) string {
				i := strings.Index(s, "  mac: ")
				j := strings.Index(s[i:], "\n")
				return s[:i] + "  mac: 0123456789ABCDEF" + s[i+j:]
			},
			want: []spot{{"kubernetes/apps/media/nas.enc.yaml", 35, secrets.RuleBrokenEncryption}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(good, []byte(tt.edit(enc)), 0o600))
			var opts []secrets.Option
			if tt.ids {
				opts = append(opts, secrets.WithIdentities(f.admin))
			}
			rep, err := secrets.Check(t.Context(), f.root, opts...)
			require.NoError(t, err)
			require.Equal(t, tt.want, spots(rep.Findings))
			require.Equal(t, []string{"kubernetes/apps/media/nas.enc.yaml"}, rep.Encrypted)
			if tt.wantUnverified {
				require.Equal(t, rep.Encrypted, rep.Unverified)
			} else {
				require.Empty(t, rep.Unverified)
			}
		})
	}
}

func TestCheckAllowFile(t *testing.T) {
	f := newFixture(t)
	pem := "-----BEGIN EC PRIVATE KEY-----\n" + strings.Repeat("QUJD", 16) + "\n-----END EC PRIVATE KEY-----\n"
	f.write(t, "fixtures/key.pem", pem)
	f.write(t, ".secrets-allow", "# test keys\nfixtures/**  # upstream fixtures\ngone/*.pem\n")
	rep, err := secrets.Check(t.Context(), f.root)
	require.NoError(t, err)
	require.Empty(t, rep.Findings)
	require.Equal(t, []string{"fixtures/key.pem"}, rep.Allowed)
	require.Equal(t, []string{"gone/*.pem"}, rep.StaleAllow)

	f.write(t, ".secrets-allow", "[\n")
	_, err = secrets.Check(t.Context(), f.root)
	require.ErrorContains(t, err, ".secrets-allow:1:")
}

// git runs git in dir.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
}

func TestCheckStagedReadsTheIndex(t *testing.T) {
	testtool.Require(t, "git")
	f := newFixture(t)
	git(t, f.root, "init", "-q")
	f.write(t, "README.md", "# homelab\n")
	git(t, f.root, "add", ".")
	git(t, f.root, "commit", "-q", "-m", "init")

	// Stage a leak, then fix the working tree without staging the fix.
	f.write(t, "secrets/nas.enc.yaml", "password: staged-plaintext\n")
	git(t, f.root, "add", "secrets/nas.enc.yaml")
	require.NoError(t, os.Remove(f.path("secrets/nas.enc.yaml")))

	staged, err := secrets.Check(t.Context(), f.root, secrets.WithStaged())
	require.NoError(t, err)
	require.Equal(t, []spot{{"secrets/nas.enc.yaml", 1, secrets.RuleUnencrypted}}, spots(staged.Findings), "what would be committed")

	tree, err := secrets.Check(t.Context(), f.root)
	require.NoError(t, err)
	require.Empty(t, tree.Findings, "the working tree no longer holds it")

	// Untracked files are checked too, ignored ones are not.
	f.write(t, ".gitignore", "*.local\n")
	f.write(t, "notes.md", "GITHUB_TOKEN=ghp_"+strings.Repeat("a1B2", 9)+"\n")
	f.write(t, "notes.local", "GITHUB_TOKEN=ghp_"+strings.Repeat("a1B2", 9)+"\n")
	tree, err = secrets.Check(t.Context(), f.root)
	require.NoError(t, err)
	require.Equal(t, []spot{{"notes.md", 1, secrets.RuleToken}}, spots(tree.Findings))
}

func TestInstallHook(t *testing.T) {
	testtool.Require(t, "git")
	f := newFixture(t)
	git(t, f.root, "init", "-q")
	h := secrets.Hook{Steps: []secrets.HookStep{{Run: "guard check --staged"}}, InstalledBy: "guard install-hook"}
	script := "#!/bin/sh\n" +
		"# Installed by guard install-hook.\n" +
		"# Refuses a commit that carries a plaintext secret (docs/operations/secrets.md).\n" +
		"# Bypass once, knowingly, with: git commit --no-verify\n" +
		"exec guard check --staged\n"
	require.Equal(t, script, h.Script(), "one step is the script every clone's hook has been")

	hook, changed, err := secrets.InstallHook(t.Context(), f.root, h, secrets.WithDryRun())
	require.NoError(t, err)
	require.True(t, changed)
	require.NoFileExists(t, hook, "a dry run writes nothing")

	hook, changed, err = secrets.InstallHook(t.Context(), f.root, h)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, f.path(".git/hooks/pre-commit"), hook)
	require.Equal(t, script, readFile(t, hook))
	requireMode(t, hook, 0o755)

	_, changed, err = secrets.InstallHook(t.Context(), f.root, h)
	require.NoError(t, err)
	require.False(t, changed, "a second run has nothing to do")

	// A hook this installer wrote for other commands is replaced.
	more := secrets.Hook{Steps: []secrets.HookStep{{Run: "guard check --staged --strict"}, {Run: "fmt --staged", Fixes: true}, {Run: "lint --staged"}}, InstalledBy: h.InstalledBy}
	_, changed, err = secrets.InstallHook(t.Context(), f.root, more)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, more.Script(), readFile(t, hook))

	require.NoError(t, os.WriteFile(hook, []byte("#!/bin/sh\nexec lint-staged\n"), 0o755))
	_, _, err = secrets.InstallHook(t.Context(), f.root, more)
	require.ErrorIs(t, err, secrets.ErrForeignHook)
	var foreign *secrets.ForeignHookError
	require.ErrorAs(t, err, &foreign)
	require.Equal(t, secrets.ForeignHookError{Path: hook, Commands: []string{"guard check --staged --strict", "fmt --staged", "lint --staged"}}, *foreign)
	require.EqualError(t, err, "another pre-commit hook is installed: "+hook+" was not written by this installer; add the lines `guard check --staged --strict`, `fmt --staged`, `lint --staged` to it yourself, or move it away and install the hook again")
	_, _, err = secrets.InstallHook(t.Context(), f.root, h)
	require.EqualError(t, err, "another pre-commit hook is installed: "+hook+" was not written by this installer; add the line `guard check --staged` to it yourself, or move it away and install the hook again")
	require.Equal(t, "#!/bin/sh\nexec lint-staged\n", readFile(t, hook), "a foreign hook is left alone")

	_, _, err = secrets.InstallHook(t.Context(), t.TempDir(), h)
	require.ErrorContains(t, err, "is it a git clone?")

	for _, bad := range []secrets.Hook{
		{InstalledBy: "x"},
		{Steps: []secrets.HookStep{{Run: "x"}}},
		{Steps: []secrets.HookStep{{Run: "x"}, {Run: " "}}, InstalledBy: "x"},
		{Steps: []secrets.HookStep{{Run: "a\nb"}}, InstalledBy: "x"},
		{Steps: []secrets.HookStep{{Run: "x"}}, InstalledBy: "a\nb"},
	} {
		_, _, err = secrets.InstallHook(t.Context(), f.root, bad)
		require.ErrorContains(t, err, "pre-commit hook", "%+v is refused", bad)
	}
}

// TestHookSteps runs the script of a hook with several steps in a real git
// repository: the steps run in order and the first that fails refuses the
// commit; a step that Fixes files refuses it when it changed the working
// tree, so the person reviews and stages the change.
func TestHookSteps(t *testing.T) {
	testtool.Require(t, "git")
	tests := []struct {
		name   string
		steps  []secrets.HookStep
		ok     bool
		ran    string
		stderr string
	}{
		{"all pass", []secrets.HookStep{{Run: "echo one >>ran"}, {Run: "echo two >>ran", Fixes: true}, {Run: "echo three >>ran"}}, true, "one\ntwo\nthree\n", ""},
		{"first failure stops", []secrets.HookStep{{Run: "echo one >>ran"}, {Run: "echo two >>ran; exit 3"}, {Run: "echo three >>ran"}}, false, "one\ntwo\n", ""},
		{"a fixer that changed a file", []secrets.HookStep{{Run: "echo one >>ran"}, {Run: "echo 'changed' >a.txt", Fixes: true}, {Run: "echo three >>ran"}}, false, "one\n", "changed files: review the changes (git diff), git add them and commit again"},
		{"a fixer that changed nothing", []secrets.HookStep{{Run: "echo one >>ran"}, {Run: "true", Fixes: true}, {Run: "echo three >>ran"}}, true, "one\nthree\n", ""},
	}
	t.Run("shellcheck finds nothing", func(t *testing.T) {
		script := filepath.Join(t.TempDir(), "pre-commit")
		hook := secrets.Hook{Steps: []secrets.HookStep{{Run: "guard check --staged"}, {Run: "fmt --staged --only=a,b", Fixes: true}, {Run: "lint --staged"}}, InstalledBy: "guard install-hook"}
		require.NoError(t, os.WriteFile(script, []byte(hook.Script()), 0o755))
		out, err := exec.Command(testtool.Require(t, "shellcheck"), script).CombinedOutput()
		require.NoError(t, err, "%s", out)
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			git(t, dir, "init", "-q")
			require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("ran\n"), 0o644))
			git(t, dir, "add", "a.txt", ".gitignore")
			script := filepath.Join(t.TempDir(), "pre-commit")
			require.NoError(t, os.WriteFile(script, []byte(secrets.Hook{Steps: tt.steps, InstalledBy: "test"}.Script()), 0o755))
			cmd := exec.Command(script)
			cmd.Dir = dir
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			if tt.ok {
				require.NoError(t, err, stderr.String())
			} else {
				require.Error(t, err)
			}
			ran, _ := os.ReadFile(filepath.Join(dir, "ran"))
			require.Equal(t, tt.ran, string(ran))
			require.Contains(t, stderr.String(), tt.stderr)
		})
	}
}

// TestCheckFindsFilesNobodyCanOpen: a file encrypted only to placeholder
// recipients used to pass ("MAC not verified"); it is reported now, and so
// is one encrypted only to keys neither .sops.yaml nor the caller lists.
func TestCheckFindsFilesNobodyCanOpen(t *testing.T) {
	f := newFixture(t)
	admin := f.admin.Recipient().String()
	stranger := newIdentity(t)
	encrypted := func(rel, recipient string) {
		path := f.write(t, rel, "password: hunter2-but-longer\n")
		_, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
		require.NoError(t, err)
		// Only the metadata's recipient changes: as if encrypted to it.
		f.write(t, rel, strings.ReplaceAll(readFile(t, path), admin, recipient))
	}
	encrypted("secrets/lost.enc.yaml", secrets.PlaceholderAdmin)
	encrypted("secrets/foreign.enc.yaml", stranger.Recipient().String())
	encrypted("secrets/fine.enc.yaml", admin)
	f.write(t, "secrets/lost.enc.env", "NAS_PASSWORD=ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n"+
		"sops_age__list_0__map_recipient="+secrets.PlaceholderAdmin+"\n"+
		"sops_mac=ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n")

	rep, err := secrets.Check(t.Context(), f.root)
	require.NoError(t, err)
	require.Equal(t, []spot{
		{"secrets/foreign.enc.yaml", 12, secrets.RuleUnreadable},
		{"secrets/lost.enc.env", 2, secrets.RuleUnreadable},
		{"secrets/lost.enc.yaml", 12, secrets.RuleUnreadable},
	}, spots(rep.Findings))
	require.Contains(t, rep.Findings[0].Message, "encrypted only to "+stranger.Recipient().String()+", which neither .sops.yaml nor your age key lists")
	require.Contains(t, rep.Findings[2].Message, "encrypted only to the placeholder recipient(s) "+secrets.PlaceholderAdmin+", whose private keys do not exist")
	require.Error(t, rep.Err())

	// The holder of the foreign key can open it: not a finding for them.
	rep, err = secrets.Check(t.Context(), f.root, secrets.WithIdentities(stranger))
	require.NoError(t, err)
	require.Equal(t, []spot{
		{"secrets/lost.enc.env", 2, secrets.RuleUnreadable},
		{"secrets/lost.enc.yaml", 12, secrets.RuleUnreadable},
	}, spots(rep.Findings))
}
