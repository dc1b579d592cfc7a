package packer

import (
	"context"
	"errors"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/lib/secrets"
)

// WindowsSecretFile is the SOPS-encrypted file, relative to the repository
// root, that holds the Windows template's Administrator password.
const WindowsSecretFile = "secrets/windows.enc.yaml"

// WindowsPasswordKey is the key of the password in WindowsSecretFile; it is
// also the name of the Packer variable packer/windows/windows.pkr.hcl reads
// it from.
const WindowsPasswordKey = "windows_admin_password"

// WindowsPasswordMinLength is the shortest password accepted, as the
// windows_baseline role's check.
const WindowsPasswordMinLength = 14

// ErrNoWindowsPassword is returned when the secret file has no non-empty
// WindowsPasswordKey.
var ErrNoWindowsPassword = errors.New("no Windows admin password in the secret file")

// ErrWeakWindowsPassword is returned when the password is shorter than
// WindowsPasswordMinLength.
//
//lint:ignore ST1005 "Windows" is the operating system, a proper noun
var ErrWeakWindowsPassword = errors.New("Windows admin password too short")

// Secret is a value that must not reach a log: every way fmt and encoders
// print it gives "<sensitive>"; Reveal and Env hand out the value.
type Secret struct{ value string }

// NewSecret wraps value, e.g. a password read from elsewhere than
// WindowsPassword's file.
func NewSecret(value string) Secret { return Secret{value: value} }

// String hides the value.
func (Secret) String() string { return "<sensitive>" }

// GoString hides the value from %#v.
func (Secret) GoString() string { return "<sensitive>" }

// MarshalText hides the value from JSON, YAML and slog.
func (Secret) MarshalText() ([]byte, error) { return []byte("<sensitive>"), nil }

// Reveal returns the value.
func (s Secret) Reveal() string { return s.value }

// Env returns the environment entry that passes the secret to Packer as the
// sensitive variable name (PKR_VAR_<name>=<value>): Packer reads it from its
// environment, so the value is on no command line and in no file.
func (s Secret) Env(name string) string { return "PKR_VAR_" + name + "=" + s.value }

// WindowsPasswordError is a password that could not be read from a secret
// file: the file, and why (wrapping ErrNoWindowsPassword,
// ErrWeakWindowsPassword, or the decryption's error from lib/secrets).
type WindowsPasswordError struct {
	File string
	Err  error
}

// Error names the file, the key and what to do.
func (e *WindowsPasswordError) Error() string {
	switch {
	case errors.Is(e.Err, ErrNoWindowsPassword):
		return fmt.Sprintf("%s: %v: set the key %s in this SOPS-encrypted file", e.File, e.Err, WindowsPasswordKey)
	case errors.Is(e.Err, ErrWeakWindowsPassword):
		return fmt.Sprintf("%s: %s: %v (at least %d characters): change it in this SOPS-encrypted file", e.File, WindowsPasswordKey, e.Err, WindowsPasswordMinLength)
	case errors.Is(e.Err, os.ErrNotExist):
		return fmt.Sprintf("%s: the Windows admin password's secret file does not exist: create it SOPS-encrypted with the key %s", e.File, WindowsPasswordKey)
	}
	return fmt.Sprintf("%s: read the Windows admin password: %v", e.File, e.Err)
}

// Unwrap returns the cause.
func (e *WindowsPasswordError) Unwrap() error { return e.Err }

// WindowsPassword decrypts the SOPS file at path in memory (lib/secrets,
// with its key lookup and opts) and returns its WindowsPasswordKey. The
// plaintext is never written anywhere; errors never contain the password.
func WindowsPassword(ctx context.Context, path string, opts ...secrets.Option) (Secret, error) {
	if err := ctx.Err(); err != nil {
		return Secret{}, err
	}
	plain, err := secrets.DecryptFile(path, opts...)
	if err != nil {
		return Secret{}, &WindowsPasswordError{File: path, Err: err}
	}
	var doc map[string]any
	if err := yaml.Unmarshal(plain, &doc); err != nil {
		// yaml errors quote the offending text; the plaintext stays out.
		return Secret{}, &WindowsPasswordError{File: path, Err: errors.New("decrypted content is not a YAML mapping")}
	}
	pw, _ := doc[WindowsPasswordKey].(string)
	switch {
	case pw == "":
		return Secret{}, &WindowsPasswordError{File: path, Err: ErrNoWindowsPassword}
	case len([]rune(pw)) < WindowsPasswordMinLength:
		return Secret{}, &WindowsPasswordError{File: path, Err: ErrWeakWindowsPassword}
	}
	return Secret{value: pw}, nil
}
