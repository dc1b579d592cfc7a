package secrets_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/secrets"
)

// damagedDir holds SOPS files encrypted by the sops CLI, intact and
// damaged (testdata/damaged/README.md says how each was damaged).
var damagedDir = filepath.Join("testdata", "damaged")

// damagedKey is the test-only key the files of damagedDir are encrypted to.
func damagedKey(t *testing.T) []age.Identity {
	t.Helper()
	f, err := os.Open(filepath.Join(damagedDir, "key.txt"))
	require.NoError(t, err)
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	require.NoError(t, err)
	return ids
}

// damage is how a file of damagedDir is damaged: truncated at line, or
// plaintext at line under key; neither for an intact file.
type damage struct {
	file      string
	line      int
	truncated bool
	// noMeta: cut before the sops metadata even begins.
	noMeta bool
	key    string
	// typed is the plaintext typed in by hand, which no message may repeat.
	typed string
}

var damages = []damage{
	{file: "proxmox.enc.yaml"},
	{file: "nas.enc.yaml"},
	{file: "proxmox.enc.json"},
	{file: "cut-in-values.enc.yaml", line: 5, truncated: true, noMeta: true},
	{file: "cut-at-sops.enc.yaml", line: 7, truncated: true},
	{file: "cut-in-age.enc.yaml", line: 12, truncated: true},
	{file: "cut-in-lastmodified.enc.yaml", line: 18, truncated: true},
	{file: "cut-before-mac.enc.yaml", line: 18, truncated: true},
	{file: "cut-in-mac.enc.yaml", line: 19, truncated: true},
	{file: "cut-in-values.enc.json", line: 3, truncated: true, noMeta: true},
	{file: "cut-in-sops.enc.json", line: 14, truncated: true},
	{file: "plaintext-value.enc.yaml", line: 5, key: "proxmox.token_secret", typed: "injected"},
	{file: "plaintext-key.enc.yaml", line: 5, key: "proxmox.added", typed: "typed-by-hand"},
	{file: "plaintext-number.enc.yaml", line: 6, key: "proxmox.port", typed: "8006"},
	{file: "nas-plaintext-key.enc.yaml", line: 8, key: "stringData.extra", typed: "plaintext-value"},
	{file: "plaintext-value.enc.json", line: 4, key: "proxmox.token_secret", typed: "injected"},
}

// TestDecryptNamesTheDamage decrypts damaged files: a truncated one says
// so, with the line it ends on; a plaintext value or key where sops
// requires ciphertext is named by key path and line, and its value never
// appears in the error (sops' own "Input string ... does not match sops'
// data format" repeats it and names neither).
func TestDecryptNamesTheDamage(t *testing.T) {
	ids := damagedKey(t)
	for _, tt := range damages {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(damagedDir, tt.file)
			_, err := secrets.DecryptFile(path, secrets.WithIdentities(ids...))
			if tt.line == 0 {
				require.NoError(t, err, "the intact file decrypts")
				return
			}
			require.ErrorContains(t, err, fmt.Sprintf("%s:%d: ", path, tt.line))
			require.ErrorContains(t, err, "restore the last good version from git (git checkout -- "+path)
			require.NotContains(t, err.Error(), "Input string")
			require.NotContains(t, err.Error(), "parsing time")
			var d *secrets.DamageError
			require.ErrorAs(t, err, &d)
			require.Equal(t, tt.line, d.Line)
			if tt.truncated {
				require.ErrorIs(t, err, secrets.ErrTruncated)
				if tt.noMeta {
					require.ErrorContains(t, err, fmt.Sprintf("truncated: the file holds SOPS ciphertext but ends at line %d, before its sops metadata", tt.line))
				} else {
					require.ErrorContains(t, err, fmt.Sprintf("truncated: the file ends at line %d, inside its sops metadata", tt.line))
				}
				return
			}
			require.ErrorIs(t, err, secrets.ErrTampered)
			require.Equal(t, tt.key, d.Key)
			require.ErrorContains(t, err, tt.key+" is plaintext where sops requires ciphertext")
			require.NotContains(t, err.Error(), tt.typed, "the value typed in by hand is not repeated")
		})
	}

	t.Run("cut after the MAC: only sops.version is lost, and the MAC proves the values whole", func(t *testing.T) {
		plain, err := secrets.DecryptFile(filepath.Join(damagedDir, "cut-before-version.enc.yaml"), secrets.WithIdentities(ids...))
		require.NoError(t, err)
		require.Contains(t, string(plain), "token_secret: not-a-real-token-secret")
	})
}

// TestCheckNamesTheDamage runs the guard over the same files: each
// truncated one is reported as truncated at the line it ends on (even the
// one that still decrypts), each plaintext value by key path and line, and
// the intact ones pass.
func TestCheckNamesTheDamage(t *testing.T) {
	f := newFixture(t)
	var want []spot
	for _, d := range append(damages, damage{file: "cut-before-version.enc.yaml", line: 20, truncated: true}) {
		data, err := os.ReadFile(filepath.Join(damagedDir, d.file))
		require.NoError(t, err)
		f.write(t, "secrets/"+d.file, string(data))
		switch {
		case d.truncated:
			want = append(want, spot{"secrets/" + d.file, d.line, secrets.RuleTruncated})
		case d.line > 0:
			want = append(want, spot{"secrets/" + d.file, d.line, secrets.RuleBrokenEncryption})
		}
	}
	rep, err := secrets.Check(t.Context(), f.root, secrets.WithIdentities(damagedKey(t)...))
	require.NoError(t, err)
	require.ElementsMatch(t, want, spots(rep.Findings))
	for _, finding := range rep.Findings {
		if finding.Rule == secrets.RuleTruncated {
			require.Contains(t, finding.Message, fmt.Sprintf("line %d", finding.Line))
			require.Contains(t, finding.Message, "git checkout -- "+finding.Path)
		}
	}
	require.Contains(t, spotsMessage(rep.Findings, "secrets/plaintext-value.enc.yaml"), "proxmox.token_secret is plaintext")
	require.NotContains(t, spotsMessage(rep.Findings, "secrets/plaintext-value.enc.yaml"), "injected")
}

// spotsMessage returns the message of the first finding for a file.
func spotsMessage(findings []secrets.Finding, path string) string {
	for _, f := range findings {
		if f.Path == path {
			return f.Message
		}
	}
	return ""
}
