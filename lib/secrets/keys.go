package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
)

// Environment variables that supply the age key, as sops reads them.
const (
	EnvAgeKey     = "SOPS_AGE_KEY"
	EnvAgeKeyFile = "SOPS_AGE_KEY_FILE"
)

// DefaultKeyFile is where sops and age keep the user's age key:
// ~/.config/sops/age/keys.txt (or $XDG_CONFIG_HOME/sops/age/keys.txt).
func DefaultKeyFile() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the default age key file: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "sops", "age", "keys.txt"), nil
}

// KeyFile is the file sops reads the age key from when SOPS_AGE_KEY is
// not set: the one SOPS_AGE_KEY_FILE names, else DefaultKeyFile.
func KeyFile() (string, error) {
	path, _, err := keyFile()
	return path, err
}

// keyFile is KeyFile and how it was chosen, for messages.
func keyFile() (path, source string, err error) {
	if path := os.Getenv(EnvAgeKeyFile); path != "" {
		return path, EnvAgeKeyFile + "=" + path, nil
	}
	if path, err = DefaultKeyFile(); err != nil {
		return "", "", err
	}
	return path, "the default key file " + path, nil
}

// ErrNoKey means no age key was found in any of the places sops looks.
var ErrNoKey = errors.New("no age key")

// LoadIdentities reads the age identities from SOPS_AGE_KEY, else the file
// SOPS_AGE_KEY_FILE names, else the default key file.
func LoadIdentities() ([]age.Identity, error) {
	if v := os.Getenv(EnvAgeKey); v != "" {
		ids, err := age.ParseIdentities(strings.NewReader(v))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvAgeKey, err)
		}
		return ids, nil
	}
	path, source, err := keyFile()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist; create a key there, or set %s or %s", ErrNoKey, source, EnvAgeKeyFile, EnvAgeKey)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrNoKey, source, err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return ids, nil
}

// publicKeys lists the recipients of X25519 identities.
func publicKeys(ids []age.Identity) []string {
	var out []string
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			out = append(out, x.Recipient().String())
		}
	}
	if len(out) == 0 {
		return []string{"no X25519 identity"}
	}
	return out
}

// ErrKeyExists is returned by Keygen instead of overwriting a key.
var ErrKeyExists = errors.New("key file exists")

// Keygen creates an age identity at path (mode 0600, its directory 0700) in
// age-keygen's format and returns its public key. It never overwrites a
// file. With WithDryRun it only checks that path is free.
func Keygen(path string, opts ...Option) (string, error) {
	if newOptions(opts).dryRun {
		if _, err := os.Lstat(path); err == nil {
			return "", fmt.Errorf("%w: %s already holds a key; it is never overwritten", ErrKeyExists, path)
		}
		return "", nil
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", fmt.Errorf("generate an age key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create the key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%w: %s already holds a key; it is never overwritten (move it away first if you really mean to replace it)", ErrKeyExists, path)
	}
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	pub := id.Recipient().String()
	_, werr := fmt.Fprintf(f, "# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), pub, id.String())
	if cerr := f.Close(); werr != nil || cerr != nil {
		os.Remove(path)
		return "", fmt.Errorf("write %s: %w", path, errors.Join(werr, cerr))
	}
	return pub, nil
}
