package infra_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
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

	out, code = mageEnv(t, []string{"SOPS_AGE_KEY=", "SOPS_AGE_KEY_FILE=" + filepath.Join(dir, "absent.txt")}, "secrets:decrypt", secret)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "absent.txt does not exist; create a key with go run mage.go secrets:keygen")
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
	hook := exec.Command("go", "run", "mage.go", "secrets:hook")
	hook.Dir = dir
	out, err := hook.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "installed")

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
}
