package secrets_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/secrets"
)

// TestShippedPlaceholders: the recipients the repository's .sops.yaml
// ships are the placeholders the library knows, under &admin and &cluster.
func TestShippedPlaceholders(t *testing.T) {
	root := freshClone(t)
	conf := filepath.Join(root, ".sops.yaml")
	for anchor, key := range map[string]string{"admin": secrets.PlaceholderAdmin, "cluster": secrets.PlaceholderCluster} {
		require.True(t, secrets.IsPlaceholder(key))
		change, err := secrets.SetRecipient(conf, anchor, key, secrets.WithDryRun())
		require.ErrorContains(t, err, "is a placeholder recipient", "a placeholder is never put in")
		require.Nil(t, change)
		require.Contains(t, readFile(t, conf), "&"+anchor+" "+key)
	}
	require.False(t, secrets.IsPlaceholder(newIdentity(t).Recipient().String()))
}

// TestSetRecipientReplacesOnlyThatKey replaces &admin and nothing else:
// every other byte of .sops.yaml, comments and aliases included, stays.
func TestSetRecipientReplacesOnlyThatKey(t *testing.T) {
	root := freshClone(t)
	conf := filepath.Join(root, ".sops.yaml")
	require.NoError(t, os.Chmod(conf, 0o640))
	before := readFile(t, conf)
	me := newIdentity(t)
	pub := me.Recipient().String()

	change, err := secrets.SetRecipient(conf, "admin", pub, secrets.WithDryRun())
	require.NoError(t, err)
	require.Equal(t, &secrets.RecipientChange{Config: conf, Anchor: "admin", Line: anchorLine(t, "admin"), Old: secrets.PlaceholderAdmin, New: pub}, change)
	require.True(t, change.Changed())
	require.Equal(t, before, readFile(t, conf), "a dry run writes nothing")

	change, err = secrets.SetRecipient(conf, "admin", pub)
	require.NoError(t, err)
	require.True(t, change.Changed())
	require.Equal(t, strings.Replace(before, secrets.PlaceholderAdmin, pub, 1), readFile(t, conf))
	requireMode(t, conf, 0o640)

	again, err := secrets.SetRecipient(conf, "admin", pub)
	require.NoError(t, err)
	require.False(t, again.Changed(), "a second run changes nothing")

	_, err = secrets.SetRecipient(conf, "laptop", pub)
	require.ErrorIs(t, err, secrets.ErrNoAnchor)
	require.ErrorContains(t, err, "its recipient anchors: admin, cluster")
	_, err = secrets.SetRecipient(conf, "cluster", "age1notakey")
	require.ErrorContains(t, err, "is not an age public key")
	require.Equal(t, strings.Replace(before, secrets.PlaceholderAdmin, pub, 1), readFile(t, conf))
}

// TestFromAFreshCloneToAWorkingEncrypt follows what the errors say, at the
// library's level: make a key, put it in place of the placeholder, encrypt.
func TestFromAFreshCloneToAWorkingEncrypt(t *testing.T) {
	root := freshClone(t)
	conf := filepath.Join(root, ".sops.yaml")
	nas := writeFile(t, root, "secrets/nas.enc.yaml", "password: hunter2-but-longer\n")
	manifest := writeFile(t, root, "kubernetes/apps/nas.enc.yaml", secretManifest)

	_, err := secrets.SetRecipient(conf, "admin", "")
	require.ErrorIs(t, err, secrets.ErrNoKey, "with no key there is nothing to put in")

	keyFile, err := secrets.DefaultKeyFile()
	require.NoError(t, err)
	pub, err := secrets.Keygen(keyFile)
	require.NoError(t, err)
	change, err := secrets.SetRecipient(conf, "admin", "")
	require.NoError(t, err, "the caller's own key is the default")
	require.Equal(t, pub, change.New)

	_, err = secrets.EncryptFile(nas)
	require.NoError(t, err)
	plain, err := secrets.DecryptFile(nas)
	require.NoError(t, err)
	require.Equal(t, "password: hunter2-but-longer\n", string(plain))

	_, err = secrets.EncryptFile(manifest)
	var ph *secrets.PlaceholderError
	require.ErrorAs(t, err, &ph, "Kubernetes secrets also go to the cluster key, still a placeholder")
	require.Equal(t, []string{"cluster"}, ph.Anchors())
	require.Equal(t, secretManifest, readFile(t, manifest))

	clusterKey := filepath.Join(t.TempDir(), "cluster.agekey")
	clusterPub, err := secrets.Keygen(clusterKey)
	require.NoError(t, err)
	_, err = secrets.SetRecipient(conf, "cluster", clusterPub)
	require.NoError(t, err)
	_, err = secrets.EncryptFile(manifest)
	require.NoError(t, err)
}
