package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/common"
)

// EditOptions are the settings of an interactive edit.
type EditOptions struct {
	// Editor is the command line of the editor, e.g. "vim" or "code --wait"
	// (default: $VISUAL, else $EDITOR, else vi).
	Editor string
	// Stdin, Stdout and Stderr are the editor's streams (default: the process's).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Attempts bounds how often the editor reopens when the result does not
	// parse (default 3).
	Attempts int
}

// ErrEditorFailed means the editor exited with an error; nothing was saved.
var ErrEditorFailed = errors.New("editor failed")

// Edit decrypts a file (or starts a new one), opens it in an editor, and
// re-encrypts what was saved, keeping the file's data key and recipients.
// Before the editor opens it refuses a file it could not save: placeholder
// recipients (*PlaceholderError), or a new file whose rule lists no key the
// caller holds (*UnreadableResultError). The file is replaced only once the
// new ciphertext has been decrypted in memory with the caller's key and
// found to hold what was saved.
// The plaintext lives in a 0600 file inside a private (0700) temporary
// directory that is removed on every way out, error or not. It reports
// whether the file changed.
func Edit(ctx context.Context, path string, eo EditOptions, opts ...Option) (changed bool, err error) {
	o := newOptions(opts)
	st, err := o.store(path)
	if err != nil {
		return false, err
	}
	var plain []byte
	var f *opened
	existing, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Refuse now what the encryption would refuse after the edit,
		// before anyone types a secret in.
		rule, conf, err := o.rule(path)
		if err != nil {
			return false, err
		}
		recipients := groupRecipients(rule.KeyGroups)
		if err := refusePlaceholders(path, conf, true, recipients); err != nil {
			return false, err
		}
		if err := o.mustHold(path, recipients); err != nil {
			return false, err
		}
		plain = []byte("# " + filepath.Base(path) + ": write the secret values here; they are encrypted when you save and quit.\n")
	case err != nil:
		return false, err
	default:
		if f, err = o.openVerified(path, existing); err != nil {
			return false, err
		}
		conf, _ := o.findConfig(path)
		if err := refusePlaceholders(path, conf, false, ageRecipients(*f.tree)); err != nil {
			return false, err
		}
		if plain, err = f.store.EmitPlainFile(f.tree.Branches); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
	}

	if o.dryRun {
		return false, nil // the file opens (or may be created): nothing more to check
	}
	dir, err := os.MkdirTemp("", "infra-secrets-edit-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(tmp, plain, 0o600); err != nil {
		return false, err
	}

	attempts := eo.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var edited []byte
	for try := 1; ; try++ {
		if err := runEditor(ctx, eo, tmp); err != nil {
			return false, err
		}
		if edited, err = os.ReadFile(tmp); err != nil {
			return false, err
		}
		_, perr := st.LoadPlainFile(edited)
		if perr == nil {
			break
		}
		if try >= attempts {
			return false, fmt.Errorf("%s: the edited text does not parse (%v); nothing was saved", path, perr)
		}
		fmt.Fprintf(stderrOf(eo), "%s does not parse: %v. Reopening the editor (%d of %d).\n", path, perr, try+1, attempts)
	}
	if bytes.Equal(edited, plain) {
		return false, nil
	}
	s, ids, err := o.reencrypt(path, f, edited)
	if err != nil {
		return false, err
	}
	return true, o.replace(path, s, ids)
}

// reencrypt encrypts edited text for path: as a new file under its
// creation rule when f is nil, else with the data key and recipients of the
// file f was opened from. It returns the identities to prove the result
// with (nil: the caller's).
func (o options) reencrypt(path string, f *opened, edited []byte) (sealed, []age.Identity, error) {
	if f == nil {
		s, err := o.encrypt(path, edited)
		return s, nil, err
	}
	branches, err := f.store.LoadPlainFile(edited)
	if err != nil {
		return sealed{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	want, err := f.store.EmitPlainFile(branches)
	if err != nil {
		return sealed{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	f.tree.Branches = branches
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: f.tree, Cipher: aes.NewCipher(), DataKey: f.key}); err != nil {
		return sealed{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	out, err := f.store.EmitEncryptedFile(*f.tree)
	if err != nil {
		return sealed{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return sealed{out: out, want: want, recipients: ageRecipients(*f.tree)}, f.ids, nil
}

// runEditor runs the editor on a file and waits for it.
func runEditor(ctx context.Context, eo EditOptions, file string) error {
	line := eo.Editor
	for _, env := range []string{"VISUAL", "EDITOR"} {
		if line == "" {
			line = os.Getenv(env)
		}
	}
	if line == "" {
		line = "vi"
	}
	fields := strings.Fields(line)
	cmd := exec.CommandContext(ctx, fields[0], append(fields[1:], file)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = eo.Stdin, eo.Stdout, eo.Stderr
	if cmd.Stdin == nil {
		cmd.Stdin = os.Stdin
	}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	cmd.Stderr = stderrOf(eo)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s: %v; nothing was saved", ErrEditorFailed, line, err)
	}
	return nil
}

func stderrOf(eo EditOptions) io.Writer {
	if eo.Stderr != nil {
		return eo.Stderr
	}
	return os.Stderr
}
