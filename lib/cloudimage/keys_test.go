package cloudimage_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/cloudimage"
)

// fingerprints lists a keyring's primary fingerprints.
func fingerprints(el openpgp.EntityList) []string {
	var out []string
	for _, e := range el {
		out = append(out, cloudimage.Fingerprint(e))
	}
	return out
}

// readKeyring reads a binary or armored keyring file.
func readKeyring(t *testing.T, path string) openpgp.EntityList {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("-----BEGIN")) {
		el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
		require.NoError(t, err, path)
		return el
	}
	el, err := openpgp.ReadKeyRing(bytes.NewReader(b))
	require.NoError(t, err, path)
	return el
}

// publishedKeyring is where the publisher's own copy of a key is: the
// distribution's keyring package when the machine has it, else the
// committed copy under testdata/published (SOURCES.md says where each comes
// from). A key with neither is a failure, never a skip.
func publishedKeyring(t *testing.T, osName string) []string {
	t.Helper()
	var paths []string
	switch osName {
	case cloudimage.OSUbuntu:
		paths = []string{"/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg", "testdata/published/ubuntu-cloudimage-keyring.asc"}
	case cloudimage.OSArch:
		// arch-boxes' key is published in its README, not in archlinux-keyring.
		paths = []string{"testdata/published/arch-boxes-README.md"}
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			if filepath.Ext(p) == ".md" {
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				block := regexp.MustCompile(`(?s)-----BEGIN PGP PUBLIC KEY BLOCK-----.*?-----END PGP PUBLIC KEY BLOCK-----`).Find(b)
				require.NotNil(t, block, "%s publishes no key block", p)
				el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(block))
				require.NoError(t, err, p)
				return fingerprints(el)
			}
			return fingerprints(readKeyring(t, p))
		}
	}
	t.Fatalf("%s: no published keyring found (looked at %v); commit the publisher's keyring under testdata/published", osName, paths)
	return nil
}

// TestPinnedFingerprintsArePublished: every embedded key has exactly the
// pinned fingerprints, and each pinned key is in the publisher's own keyring
// (or published key block); publishers that sign nothing pin nothing.
func TestPinnedFingerprintsArePublished(t *testing.T) {
	want := map[string][]string{
		cloudimage.OSUbuntu: {"D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81"},
		cloudimage.OSArch:   {"1B9A16984A4E8CB448712D2AE0B78BF4326C6F8F"},
		cloudimage.OSDebian: nil,
		cloudimage.OSNixOS:  nil,
	}
	for _, osName := range cloudimage.OSes() {
		t.Run(osName, func(t *testing.T) {
			require.Equal(t, want[osName], cloudimage.PinnedFingerprints(osName))
			armored := cloudimage.EmbeddedKey(osName)
			if want[osName] == nil {
				require.Nil(t, armored, "a publisher that signs nothing has no key")
				return
			}
			el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
			require.NoError(t, err)
			require.Equal(t, want[osName], fingerprints(el), "embedded key's fingerprints")
			published := publishedKeyring(t, osName)
			for _, fp := range want[osName] {
				require.Contains(t, published, fp, "the pinned key is the publisher's")
			}
		})
	}
}

// TestForeignKeyRefused: a key whose fingerprint is not the pinned one is
// refused when the resolver is made.
func TestForeignKeyRefused(t *testing.T) {
	arch := cloudimage.EmbeddedKey(cloudimage.OSArch)
	_, err := cloudimage.NewResolver(cloudimage.WithKey(cloudimage.OSUbuntu, arch, cloudimage.UbuntuFingerprint))
	var ke *cloudimage.KeyError
	require.ErrorAs(t, err, &ke)
	require.Equal(t, []string{cloudimage.ArchFingerprint}, ke.Got)
	require.ErrorContains(t, err, "key WithKey has fingerprint(s) "+cloudimage.ArchFingerprint+", pinned are "+cloudimage.UbuntuFingerprint)

	_, err = cloudimage.NewResolver(cloudimage.WithKey(cloudimage.OSDebian, arch, cloudimage.ArchFingerprint))
	require.ErrorAs(t, err, &ke)
	require.ErrorContains(t, err, "debian publishes no OpenPGP signature")

	_, err = cloudimage.NewResolver(cloudimage.WithKey(cloudimage.OSUbuntu, []byte("not a key"), cloudimage.UbuntuFingerprint))
	require.ErrorAs(t, err, &ke)
	require.ErrorContains(t, err, "not an armored OpenPGP public key")

	r, err := cloudimage.NewResolver()
	require.NoError(t, err, "the embedded keys load with their pins")
	require.NotNil(t, r)
}
