package secrets_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/secrets"
)

// editor writes a shell script that records the file it was given (and
// that file's and its directory's modes) to a log, then runs body on it.
func editor(t *testing.T, body string) (command, log string) {
	t.Helper()
	testtool.Require(t, "sh")
	dir := t.TempDir()
	log = filepath.Join(dir, "editor.log")
	script := filepath.Join(dir, "editor.sh")
	content := "#!/bin/sh\nf=\"$1\"\n" +
		"printf '%s %s %s\\n' \"$f\" \"$(stat -c %a \"$f\")\" \"$(stat -c %a \"$(dirname \"$f\")\")\" >> " + log + "\n" + body + "\n"
	require.NoError(t, os.WriteFile(script, []byte(content), 0o755))
	return "sh " + script, log
}

// edited returns each file the editor saw, with its mode and its directory's.
func edited(t *testing.T, log string) [][]string {
	t.Helper()
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		out = append(out, strings.Fields(line))
	}
	return out
}

func TestEdit(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		attempts    int
		wantChanged bool
		wantErr     string
		wantPlain   string
		wantRuns    int
	}{
		{name: "a change is re-encrypted", body: `sed -i 's/hunter2-but-longer/a-new-password/' "$f"`,
			wantChanged: true, wantPlain: "user: wdiaz\npassword: a-new-password\n", wantRuns: 1},
		{name: "no change, nothing written", body: "true", wantPlain: "user: wdiaz\npassword: hunter2-but-longer\n", wantRuns: 1},
		{name: "a failing editor saves nothing", body: `echo 'password: leaked' > "$f"; exit 3`,
			wantErr: "editor failed", wantPlain: "user: wdiaz\npassword: hunter2-but-longer\n", wantRuns: 1},
		{name: "text that does not parse reopens the editor, then gives up", body: `echo 'a: [' > "$f"`, attempts: 2,
			wantErr: "does not parse", wantPlain: "user: wdiaz\npassword: hunter2-but-longer\n", wantRuns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path := f.write(t, "secrets/nas.enc.yaml", "user: wdiaz\npassword: hunter2-but-longer\n")
			_, err := secrets.EncryptFile(path, secrets.WithIdentities(f.admin))
			require.NoError(t, err)
			before, _ := os.ReadFile(path)
			cmd, log := editor(t, tt.body)
			var stderr bytes.Buffer

			changed, err := secrets.Edit(t.Context(), path, secrets.EditOptions{Editor: cmd, Stderr: &stderr, Attempts: tt.attempts},
				secrets.WithIdentities(f.admin))

			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, "nothing was saved")
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.wantChanged, changed)
			runs := edited(t, log)
			require.Len(t, runs, tt.wantRuns)
			for _, run := range runs {
				require.Equal(t, "600", run[1], "the plaintext file is 0600")
				require.Equal(t, "700", run[2], "in a private directory")
				require.NoFileExists(t, run[0], "the plaintext is gone after the edit")
				require.NoDirExists(t, filepath.Dir(run[0]), "and so is its directory")
			}
			after, _ := os.ReadFile(path)
			if !tt.wantChanged {
				require.Equal(t, before, after, "the encrypted file is untouched")
			}
			plain, err := secrets.DecryptFile(path, secrets.WithIdentities(f.admin))
			require.NoError(t, err)
			require.Equal(t, tt.wantPlain, string(plain))
		})
	}
}

func TestEditKeepsRecipientsAndCreatesNewFiles(t *testing.T) {
	f := newFixture(t)
	cmd, _ := editor(t, `printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  key: value\n' > "$f"`)
	path := f.path("kubernetes/apps/new/secret.enc.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))

	changed, err := secrets.Edit(t.Context(), path, secrets.EditOptions{Editor: cmd}, secrets.WithIdentities(f.admin))
	require.NoError(t, err)
	require.True(t, changed)
	requireMode(t, path, 0o600)
	plain, err := secrets.DecryptFile(path, secrets.WithIdentities(f.cluster))
	require.NoError(t, err, "a new Kubernetes secret is encrypted to the cluster key too")
	require.Contains(t, string(plain), "key: value")

	before := readFile(t, path)
	changed, err = secrets.Edit(t.Context(), path, secrets.EditOptions{Editor: "false"}, secrets.WithIdentities(f.admin), secrets.WithDryRun())
	require.NoError(t, err, "a dry run checks the file opens and starts no editor")
	require.False(t, changed)
	require.Equal(t, before, readFile(t, path))

	_, err = secrets.Edit(t.Context(), f.path("docs/new.yaml"), secrets.EditOptions{Editor: cmd})
	require.ErrorIs(t, err, secrets.ErrNoRule, "a new file outside the rules is refused before the editor opens")
}
