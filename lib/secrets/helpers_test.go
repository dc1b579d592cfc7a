package secrets_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"
)

// fixture is a repository with the project's real .sops.yaml, its
// placeholder recipients replaced by fresh keys.
type fixture struct {
	root           string
	admin, cluster *age.X25519Identity
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir(), admin: newIdentity(t), cluster: newIdentity(t)}
	conf, err := os.ReadFile(filepath.Join("..", "..", ".sops.yaml"))
	require.NoError(t, err)
	text := string(conf)
	for name, id := range map[string]*age.X25519Identity{"admin": f.admin, "cluster": f.cluster} {
		m := regexp.MustCompile(`&` + name + ` (age1[0-9a-z]+)`).FindStringSubmatch(text)
		require.NotNil(t, m, ".sops.yaml defines the &%s recipient", name)
		text = strings.ReplaceAll(text, m[1], id.Recipient().String())
	}
	f.write(t, ".sops.yaml", text)
	// No key from the developer's machine leaks into a test.
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("SOPS_AGE_KEY_FILE", filepath.Join(f.root, "no-such-key.txt"))
	return f
}

// path returns the absolute path of a file of the fixture.
func (f *fixture) path(rel string) string { return filepath.Join(f.root, filepath.FromSlash(rel)) }

// write creates a file of the fixture and returns its path.
func (f *fixture) write(t *testing.T, rel, content string) string {
	t.Helper()
	p := f.path(rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// keyFile writes identities as an age key file and returns its path.
func (f *fixture) keyFile(t *testing.T, ids ...*age.X25519Identity) string {
	t.Helper()
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id.String() + "\n")
	}
	p := filepath.Join(t.TempDir(), "keys.txt")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
	return p
}

// anchorLine is the line of the repository's .sops.yaml that defines the
// recipient &anchor.
func anchorLine(t *testing.T, anchor string) int {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join("..", "..", ".sops.yaml"))
	require.NoError(t, err)
	for i, line := range strings.Split(string(conf), "\n") {
		if strings.Contains(line, "- &"+anchor+" age1") {
			return i + 1
		}
	}
	require.Fail(t, "the repository's .sops.yaml defines &"+anchor)
	return 0
}

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	return id
}

const secretManifest = `# NAS credentials for the media apps
apiVersion: v1
kind: Secret
metadata:
  name: nas-credentials
  namespace: media
type: Opaque
stringData:
  username: wdiaz
  password: correct-horse-battery-staple
data:
  token: c2VjcmV0LXRva2Vu
`

const proxmoxSecrets = `# Proxmox API token for Terraform and Packer
proxmox:
  url: https://10.10.2.2:8006/api2/json
  token_id: terraform@pve!infra
  token_secret: not-a-real-token-secret
  port: 8006
  verify_tls: true
nas:
  shares:
    - media
    - backups
`
