package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"
)

// ErrNoCallerKey means an operation refused to write ciphertext that no
// age key the caller holds would open. Errors that wrap it are
// *UnreadableResultError.
var ErrNoCallerKey = errors.New("no key you hold opens the result")

// UnreadableResultError is returned, with nothing written, when the
// ciphertext an operation produced does not open with any age key the
// caller holds: writing it in place of a file would destroy the file's
// content for the caller, and, when every recipient's key is lost, for
// everyone.
type UnreadableResultError struct {
	// Path is the file that was to be written.
	Path string
	// Recipients are the age recipients the result was encrypted to.
	Recipients []string
	// Identities are the public keys of the age keys the caller holds;
	// empty when the caller has none.
	Identities []string
	// Err, when the caller holds no key at all, says where none was
	// found (it wraps ErrNoKey).
	Err error
}

// Error names the file, the recipients, the keys tried, and that nothing
// changed.
func (e *UnreadableResultError) Error() string {
	held := "you hold none of their keys: your keys are " + strings.Join(e.Identities, ", ")
	switch {
	case e.Err != nil:
		held = "you hold no age key (" + e.Err.Error() + ")"
	case len(e.Identities) == 0:
		held = "you hold no age X25519 key"
	}
	return fmt.Sprintf("%s: refused: the result would be encrypted to %s and %s, so nothing could open it here; nothing was written and the file is unchanged; put the public key of a key you hold in the %s rule for it",
		e.Path, strings.Join(e.Recipients, ", "), held, ConfigFile)
}

// Is makes errors.Is(err, ErrNoCallerKey) true.
func (e *UnreadableResultError) Is(target error) bool { return target == ErrNoCallerKey }

// Unwrap returns why the caller holds no key, if that is the reason.
func (e *UnreadableResultError) Unwrap() error { return e.Err }

// sealed is an encryption's result before it is written: the ciphertext,
// the plaintext it must decrypt to (as the store emits it), and its age
// recipients.
type sealed struct {
	out, want  []byte
	recipients []string
}

// callerIdentities returns the caller's age identities: WithIdentities,
// else the environment's or the default key file's.
func (o options) callerIdentities() ([]age.Identity, error) {
	if len(o.identities) > 0 {
		return o.identities, nil
	}
	return LoadIdentities()
}

// replace is the one way a file's content is replaced by ciphertext: it
// proves that s opens with the caller's identities (ids, or when nil the
// caller's, loaded now) to exactly the plaintext it was made from, MAC
// verified, and only then writes it atomically, mode 0600. Otherwise
// the file stays byte for byte as it was. With a dry run it proves and
// writes nothing.
func (o options) replace(path string, s sealed, ids []age.Identity) error {
	if err := o.prove(path, s, ids); err != nil {
		return err
	}
	if o.dryRun {
		return nil
	}
	return writePrivate(path, s.out)
}

// prove decrypts s.out in memory with the caller's identities and checks
// it holds s.want.
func (o options) prove(path string, s sealed, ids []age.Identity) error {
	if ids == nil {
		var err error
		if ids, err = o.callerIdentities(); errors.Is(err, ErrNoKey) {
			return &UnreadableResultError{Path: path, Recipients: s.recipients, Err: err}
		} else if err != nil {
			return err
		}
	}
	p := o
	p.identities = ids
	got, err := p.decrypt(path, s.out)
	var noID *NoIdentityError
	if errors.As(err, &noID) {
		return &UnreadableResultError{Path: path, Recipients: s.recipients, Identities: x25519Keys(ids)}
	}
	if err != nil {
		return fmt.Errorf("%s: the new ciphertext does not open (%w); nothing was written", path, err)
	}
	if !bytes.Equal(got, s.want) {
		return fmt.Errorf("%s: the new ciphertext does not decrypt to what was meant to be written; nothing was written", path)
	}
	return nil
}

// mustHold refuses, before any work, an operation whose result would be
// encrypted to recipients none of the caller's keys belongs to. Keys of a
// kind other than X25519 cannot be compared here and leave the question to
// prove.
func (o options) mustHold(path string, recipients []string) error {
	ids, err := o.callerIdentities()
	if errors.Is(err, ErrNoKey) {
		return &UnreadableResultError{Path: path, Recipients: recipients, Err: err}
	}
	if err != nil {
		return err
	}
	keys := x25519Keys(ids)
	if len(keys) < len(ids) || slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(recipients, k) }) {
		return nil
	}
	return &UnreadableResultError{Path: path, Recipients: recipients, Identities: keys}
}

// x25519Keys lists the public keys of X25519 identities.
func x25519Keys(ids []age.Identity) []string {
	var out []string
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			out = append(out, x.Recipient().String())
		}
	}
	return out
}

// WithForOthers makes EncryptFile encrypt for the recipients of the
// creation rule even when the caller holds none of their keys: it does not
// prove the result opens, so it never replaces anything. The plaintext file
// stays untouched and the ciphertext goes beside it, to ForOthersPath, a
// new file it never overwrites.
func WithForOthers() Option { return func(o *options) { o.forOthers = true } }

// ErrNameForOthers means a plaintext file's name leaves no place beside it
// for its ciphertext.
var ErrNameForOthers = errors.New("no name for the ciphertext beside the plaintext")

// ForOthersPath is where EncryptFile WithForOthers writes the ciphertext of
// the plaintext file at path: beside it, with .enc. in its name, so that the
// creation rules for *.enc.yaml files match it. name.dec.yaml (a name git
// ignores, for plaintext) becomes name.enc.yaml, and name.yaml becomes
// name.enc.yaml too. A plaintext already named name.enc.yaml sits where its
// ciphertext belongs: it is refused (ErrNameForOthers), to be renamed
// name.dec.yaml first.
func ForOthersPath(path string) (string, error) {
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	switch {
	case strings.HasSuffix(stem, ".enc"):
		return "", fmt.Errorf("%w: %s already has the encrypted file's name; rename it to %s (git ignores *.dec.* files) and encrypt that",
			ErrNameForOthers, path, filepath.Join(dir, strings.TrimSuffix(stem, ".enc")+".dec"+ext))
	case strings.HasSuffix(stem, ".dec"):
		stem = strings.TrimSuffix(stem, ".dec")
	}
	if stem == "" {
		return "", fmt.Errorf("%w: %s has no name before its extension", ErrNameForOthers, path)
	}
	return filepath.Join(dir, stem+".enc"+ext), nil
}

// encryptForOthers writes the ciphertext of the plaintext file at path to
// ForOthersPath(path), leaving path untouched.
func (o options) encryptForOthers(path string, data []byte) ([]string, error) {
	out, err := ForOthersPath(path)
	if err != nil {
		return nil, err
	}
	s, err := o.encrypt(out, data)
	if err != nil {
		return nil, err
	}
	if err := o.writeNew(out, s.out); err != nil {
		return nil, err
	}
	return s.recipients, nil
}

// writeNew writes a file that must not exist yet (mode 0600), creating its
// directory; with a dry run it only checks that the name is free.
func (o options) writeNew(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s: %w; it is never replaced: move it away first if it is not needed", path, fs.ErrExist)
	}
	if o.dryRun {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writePrivate(path, data)
}

// WriteEncrypted encrypts plaintext under the creation rule of path and
// writes it as the new file path (mode 0600, its directory created),
// after proving, as every operation here that writes ciphertext does, that
// the result opens with the caller's key to exactly the plaintext. It never
// replaces an existing file (an error matching fs.ErrExist). With
// WithDryRun it proves everything and writes nothing.
func WriteEncrypted(path string, plaintext []byte, opts ...Option) error {
	o := newOptions(opts)
	s, err := o.encrypt(path, plaintext)
	if err != nil {
		return err
	}
	if err := o.prove(path, s, nil); err != nil {
		return err
	}
	return o.writeNew(path, s.out)
}
