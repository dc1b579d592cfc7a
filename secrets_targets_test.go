package infra_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/precommit"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/secrets"
)

// TestSecretsTargets walks the operator's path through the secrets targets:
// make a key, put it in .sops.yaml, catch a plaintext file, encrypt it,
// read it back, re-key, rotate, edit, and check again.
func TestSecretsTargets(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(t.TempDir(), "sops", "age", "keys.txt")
	env := []string{"SOPS_AGE_KEY=", "SOPS_AGE_KEY_FILE=" + key}

	out, code := mageEnv(t, env, "secrets:keygen", "--dry-run")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "would create an age key at "+key)
	require.NoFileExists(t, key)

	out, code = mageEnv(t, env, "secrets:keygen")
	require.Equal(t, 0, code, out)
	pub := regexp.MustCompile(`public key: (age1[0-9a-z]+)`).FindStringSubmatch(out)
	require.NotNil(t, pub, out)
	fi, err := os.Stat(key)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	out, code = mageEnv(t, env, "secrets:keygen")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "never overwritten")

	conf := readFile(t, ".sops.yaml")
	for _, placeholder := range regexp.MustCompile(`&(?:admin|cluster) (age1[0-9a-z]+)`).FindAllStringSubmatch(conf, -1) {
		conf = strings.ReplaceAll(conf, placeholder[1], pub[1])
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(conf), 0o644))
	secret := filepath.Join(dir, "secrets", "proxmox.enc.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(secret), 0o755))
	plain := "token_id: terraform@pve!infra\ntoken_secret: not-a-real-secret\n"
	require.NoError(t, os.WriteFile(secret, []byte(plain), 0o644))

	out, code = mageEnv(t, env, "-w", dir, "secrets:check")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "secrets/proxmox.enc.yaml:1: unencrypted: not encrypted")
	require.Contains(t, out, "To fix:\n  go run mage.go secrets:encrypt secrets/proxmox.enc.yaml\n")

	out, code = mageEnv(t, env, "secrets:encrypt", secret, "--dry-run")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "would encrypt "+secret+" for 1 recipient(s)")
	require.Equal(t, plain, readFile(t, secret))

	out, code = mageEnv(t, env, "secrets:encrypt", secret)
	require.Equal(t, 0, code, out)
	require.Contains(t, readFile(t, secret), "token_secret: ENC[AES256_GCM,")

	out, code = mageEnv(t, env, "secrets:decrypt", secret)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, plain)
	copyOut := filepath.Join(dir, "out", "proxmox.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(copyOut), 0o700))
	out, code = mageEnv(t, env, "secrets:decrypt", secret, "-out="+copyOut)
	require.Equal(t, 0, code, out)
	fi, err = os.Stat(copyOut)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.Equal(t, plain, readFile(t, copyOut))

	out, code = mageEnv(t, env, "-w", dir, "secrets:check")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "1 encrypted (1 MACs verified)")

	out, code = mageEnv(t, env, "-w", dir, "secrets:updatekeys")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "nothing to do: 1 encrypted file(s) already match .sops.yaml")

	out, code = mageEnv(t, env, "secrets:rotate", secret)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "rotated the data key")
	require.Contains(t, out, "Next, in order:\n  git add "+secret+" && git commit\n  replace each secret at its source")
	require.Contains(t, out, "then store the new values: go run mage.go secrets:edit "+secret)

	// A machine's key joins the rule, then leaves it: re-key, then rotate,
	// in the order the targets print.
	laptop, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	rule := "  - path_regex: (^|/)secrets/[^/]+\\.enc\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n"
	require.Contains(t, conf, rule)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(strings.Replace(conf, rule, rule+"          - "+laptop.Recipient().String()+"\n", 1)), 0o644))
	out, code = mageEnv(t, env, "-w", dir, "secrets:updatekeys")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "re-keyed  secrets/proxmox.enc.yaml (added "+laptop.Recipient().String()+")")
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(conf), 0o644))
	out, code = mageEnv(t, env, "secrets:rotate", secret)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "run, in order:\n  go run mage.go secrets:updatekeys\n  go run mage.go secrets:rotate "+secret)
	out, code = mageEnv(t, env, "-w", dir, "secrets:updatekeys")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "re-keyed  secrets/proxmox.enc.yaml (removed "+laptop.Recipient().String()+")")
	require.Contains(t, out, "Next, in order:\n  go run mage.go secrets:rotate secrets/proxmox.enc.yaml\n  git add .sops.yaml secrets/proxmox.enc.yaml && git commit\n")
	out, code = mageEnv(t, env, "secrets:rotate", secret)
	require.Equal(t, 0, code, out)

	testtool.Require(t, "sed")
	out, code = mageEnv(t, append(env, "VISUAL=", "EDITOR=sed -i s/not-a-real-secret/another-fake-secret/"), "secrets:edit", secret)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "saved, encrypted")
	out, code = mageEnv(t, env, "secrets:decrypt", secret)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "token_secret: another-fake-secret")

	// A damaged file is named by file and line, by decrypt and by check.
	damaged := filepath.Join("lib", "secrets", "testdata", "damaged")
	tampered := filepath.Join(dir, "secrets", "tampered.enc.yaml")
	cut := filepath.Join(dir, "secrets", "cut.enc.yaml")
	require.NoError(t, os.WriteFile(tampered, []byte(readFile(t, filepath.Join(damaged, "plaintext-value.enc.yaml"))), 0o600))
	require.NoError(t, os.WriteFile(cut, []byte(readFile(t, filepath.Join(damaged, "cut-in-age.enc.yaml"))), 0o600))
	testKey, err := filepath.Abs(filepath.Join(damaged, "key.txt"))
	require.NoError(t, err)
	out, code = mageEnv(t, []string{"SOPS_AGE_KEY=", "SOPS_AGE_KEY_FILE=" + testKey}, "secrets:decrypt", tampered)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, tampered+":5: changed without sops: proxmox.token_secret is plaintext where sops requires ciphertext")
	require.NotContains(t, out, "injected", "the value typed in is not repeated")
	out, code = mageEnv(t, []string{"SOPS_AGE_KEY=", "SOPS_AGE_KEY_FILE=" + testKey}, "secrets:decrypt", cut)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, cut+":12: truncated: the file ends at line 12, inside its sops metadata")
	out, code = mageEnv(t, env, "-w", dir, "secrets:check")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "secrets/cut.enc.yaml:12: truncated: the file ends at line 12")
	require.Contains(t, out, "secrets/tampered.enc.yaml:5: broken-encryption: proxmox.token_secret is plaintext")
	require.Contains(t, out, "  git checkout -- secrets/cut.enc.yaml    # then change it with go run mage.go secrets:edit secrets/cut.enc.yaml\n")

	out, code = mageEnv(t, []string{"SOPS_AGE_KEY=", "SOPS_AGE_KEY_FILE=" + filepath.Join(dir, "absent.txt")}, "secrets:decrypt", secret)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "absent.txt does not exist")
	require.Contains(t, out, "run, in order:\n  go run mage.go secrets:keygen")
}

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		out[p] = string(data)
		return err
	}))
	return out
}

// advice returns the commands an error printed after "run, in order:",
// without their comments.
func advice(t *testing.T, out string) [][]string {
	t.Helper()
	_, steps, ok := strings.Cut(out, "run, in order:\n")
	require.True(t, ok, "the error says what to run:\n%s", out)
	var cmds [][]string
	for _, line := range strings.Split(steps, "\n") {
		if !strings.HasPrefix(line, "  go run mage.go ") {
			break
		}
		line, _, _ = strings.Cut(line, "#")
		cmds = append(cmds, strings.Fields(strings.TrimPrefix(line, "  go run mage.go ")))
	}
	require.NotEmpty(t, cmds, out)
	return cmds
}

// TestSecretsTargetsFromAFreshClone: with the .sops.yaml the repository
// ships (placeholder recipients) and no age key, every target that would
// write ciphertext refuses, changes nothing on disk, and prints the
// commands that fix it; running exactly those commands makes encrypt work.
func TestSecretsTargetsFromAFreshClone(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	env := []string{"SOPS_AGE_KEY=", "SOPS_AGE_KEY_FILE=", "XDG_CONFIG_HOME=" + filepath.Join(home, ".config")}
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(readFile(t, ".sops.yaml")), 0o644))
	secret := filepath.Join(dir, "secrets", "proxmox.enc.yaml")
	manifest := filepath.Join(dir, "kubernetes", "apps", "nas.enc.yaml")
	plain := "token_id: terraform@pve!infra\ntoken_secret: not-a-real-secret\n"
	for _, p := range []string{secret, manifest} {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(plain), 0o644))
	}
	// A file the old secrets:encrypt wrote in such a clone: encrypted to the
	// &admin placeholder only, lost for good.
	lost := filepath.Join(dir, "secrets", "lost.enc.yaml")
	enc := readFile(t, filepath.Join("lib", "secrets", "testdata", "damaged", "proxmox.enc.yaml"))
	enc = regexp.MustCompile(`recipient: age1[0-9a-z]{58}`).ReplaceAllString(enc, "recipient: "+secrets.PlaceholderAdmin)
	require.NoError(t, os.WriteFile(lost, []byte(enc), 0o644))
	before := snapshot(t, dir)
	adminLine := 1 + strings.Count(strings.Split(readFile(t, ".sops.yaml"), "- &admin ")[0], "\n")
	ranEditor := filepath.Join(home, "editor-ran")

	for _, args := range [][]string{
		{"secrets:encrypt", secret},
		{"secrets:encrypt", secret, "-dryrun"},
		{"secrets:encrypt", manifest},
		{"secrets:edit", filepath.Join(dir, "secrets", "new.enc.yaml")},
		{"secrets:edit", filepath.Join(dir, "secrets", "new.enc.yaml"), "-dryrun"},
	} {
		out, code := mageEnv(t, append(env, "VISUAL=", "EDITOR=touch "+ranEditor), args...)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, fmt.Sprintf("placeholder recipient(s) &admin (%s, line %d)", secrets.PlaceholderAdmin, adminLine), args)
		require.Contains(t, out, "nothing was written")
		require.Contains(t, out, "run, in order:\n  go run mage.go secrets:keygen    # your key, if you have none yet\n  go run mage.go secrets:recipient admin", args)
		require.NoFileExists(t, ranEditor, "the editor never opened")
	}
	out, code := mageEnv(t, env, "-w", dir, "secrets:check")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "secrets/lost.enc.yaml:17: unreadable: encrypted only to the placeholder recipient(s) "+secrets.PlaceholderAdmin)
	require.Contains(t, out, "go run mage.go secrets:recipient admin")
	out, code = mageEnv(t, env, "secrets:decrypt", lost)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "it is encrypted only to the placeholder recipient(s) "+secrets.PlaceholderAdmin+", whose private keys do not exist")
	for _, args := range [][]string{{"secrets:rotate", lost}, {"-w", dir, "secrets:updatekeys"}} {
		out, code = mageEnv(t, env, args...)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "go run mage.go secrets:keygen", args)
	}
	require.Equal(t, before, snapshot(t, dir), "nothing changed on disk")

	// Run what the error printed, as printed.
	out, _ = mageEnv(t, env, "secrets:encrypt", secret)
	for _, cmd := range advice(t, out) {
		out, code = mageEnv(t, env, append([]string{"-w", dir}, cmd...)...)
		require.Equal(t, 0, code, out)
	}
	require.Contains(t, out, fmt.Sprintf("replaced &admin in .sops.yaml:%d: %s (a placeholder) -> age1", adminLine, secrets.PlaceholderAdmin))
	out, code = mageEnv(t, env, "secrets:encrypt", secret)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "your key opens it")
	out, code = mageEnv(t, env, "secrets:decrypt", secret)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, plain)

	// Kubernetes secrets go to the cluster key too: still a placeholder.
	out, code = mageEnv(t, env, "secrets:encrypt", manifest)
	require.Equal(t, 1, code, out)
	require.Equal(t, plain, readFile(t, manifest))
	var clusterPub string
	for _, cmd := range advice(t, out) {
		for i, arg := range cmd {
			cmd[i] = strings.NewReplacer("$HOME", home, "<public-key>", clusterPub).Replace(arg)
		}
		out, code = mageEnv(t, env, append([]string{"-w", dir}, cmd...)...)
		require.Equal(t, 0, code, out)
		if m := regexp.MustCompile(`public key: (age1[0-9a-z]+)`).FindStringSubmatch(out); m != nil {
			clusterPub = m[1]
		}
	}
	require.Contains(t, readFile(t, filepath.Join(dir, ".sops.yaml")), "&cluster "+clusterPub)
	out, code = mageEnv(t, env, "secrets:encrypt", manifest)
	require.Equal(t, 0, code, out)

	// Encrypting for others only keeps the plaintext and says so.
	other := filepath.Join(dir, "secrets", "nas.dec.yaml")
	require.NoError(t, os.WriteFile(other, []byte(plain), 0o600))
	out, code = mageEnv(t, env, "secrets:encrypt", other, "-forothers")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "into "+filepath.Join(dir, "secrets", "nas.enc.yaml")+" for 1 recipient(s)")
	require.Contains(t, out, other+" is untouched and still plaintext")
	require.Equal(t, plain, readFile(t, other))
}

// TestPreCommitHookBlocksAPlaintextSecret installs the hook in a copy of
// this repository and commits through it: a plaintext secret is refused,
// a clean change goes through.
func TestPreCommitHookBlocksAPlaintextSecret(t *testing.T) {
	testtool.Require(t, "git")
	if testing.Short() {
		t.Skip("compiles the Mage targets in a copy of the repository")
	}
	dir := copyCheckout(t)
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "--no-verify", "-m", "copy"}} {
		out, err := git(args...)
		require.NoError(t, err, out)
	}
	installHook := func() (string, error) {
		hook := exec.Command("go", "run", "mage.go", "secrets:hook")
		hook.Dir = dir
		out, err := hook.CombinedOutput()
		return string(out), err
	}
	// The hook secrets:hook wrote before it ran the formatters and the
	// linters is recognised as ours and replaced.
	hookFile := filepath.Join(dir, ".git", "hooks", "pre-commit")
	require.NoError(t, os.MkdirAll(filepath.Dir(hookFile), 0o755))
	require.NoError(t, os.WriteFile(hookFile, []byte(`#!/bin/sh
# Installed by go run mage.go secrets:hook.
# Refuses a commit that carries a plaintext secret (docs/operations/secrets.md).
# Bypass once, knowingly, with: git commit --no-verify
exec go run mage.go secrets:check -staged
`), 0o755))
	out, err := installHook()
	require.NoError(t, err, out)
	require.Contains(t, out, "installed "+filepath.Join(".git", "hooks", "pre-commit")+": every commit now runs, in order, go run mage.go secrets:check -staged; go run mage.go lint -fix -staged -only=gofmt,terraform,packer; go run mage.go lint -staged\n")
	// The same commands, in the same order, as .pre-commit-config.yaml.
	require.Equal(t, precommit.GitHook().Script(), readFile(t, hookFile))
	out, err = installHook()
	require.NoError(t, err, out)
	require.Contains(t, out, "is already installed; nothing to do")

	leak := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nas\nstringData:\n  password: hunter2-but-longer\n"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "kubernetes", "apps"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kubernetes", "apps", "nas.yaml"), []byte(leak), 0o644))
	_, err = git("add", "kubernetes/apps/nas.yaml")
	require.NoError(t, err)
	msg, err := git("commit", "-m", "add the NAS secret")
	require.Error(t, err, "the hook refuses the commit")
	require.Contains(t, msg, "kubernetes/apps/nas.yaml:6: plaintext-secret-manifest")
	require.NotContains(t, msg, "hunter2-but-longer")

	_, err = git("rm", "-q", "--cached", "kubernetes/apps/nas.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("# notes\n"), 0o644))
	_, err = git("add", "NOTES.md")
	require.NoError(t, err)
	msg, err = git("commit", "-q", "-m", "add notes")
	require.NoError(t, err, "a clean commit goes through: %s", msg)

	// Another tool's hook is left alone, with the two ways out.
	require.NoError(t, os.WriteFile(hookFile, []byte("#!/bin/sh\nexec lint-staged\n"), 0o755))
	out, err = installHook()
	require.Error(t, err, out)
	require.Contains(t, out, "another pre-commit hook is installed: "+filepath.Join(".git", "hooks", "pre-commit")+" was not written by this installer; add the lines `go run mage.go secrets:check -staged`, `go run mage.go lint -fix -staged -only=gofmt,terraform,packer`, `go run mage.go lint -staged` to it yourself, or move it away and install the hook again\nonce it is moved away, run: go run mage.go secrets:hook (or, with the pre-commit framework: pre-commit install)\n")
	require.Equal(t, "#!/bin/sh\nexec lint-staged\n", readFile(t, hookFile))
}
