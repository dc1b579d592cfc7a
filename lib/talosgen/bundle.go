package talosgen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	yaml4 "go.yaml.in/yaml/v4"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
)

// DefaultBundleFile is where the cluster's secrets bundle is kept,
// SOPS-encrypted, relative to the repository.
const DefaultBundleFile = "secrets/talos-secrets.enc.yaml"

// ErrNoBundle means the secrets bundle file does not exist yet.
var ErrNoBundle = errors.New("no Talos secrets bundle")

// NewBundle makes a new secrets bundle (cluster CAs, keys and tokens) for
// the inventory's Talos version.
func NewBundle(inv *inventory.Inventory) (*tsecrets.Bundle, error) {
	vc, err := VersionContract(inv)
	if err != nil {
		return nil, err
	}
	b, err := tsecrets.NewBundle(tsecrets.NewClock(), vc)
	if err != nil {
		return nil, fmt.Errorf("generate the Talos secrets bundle: %w", err)
	}
	return b, nil
}

// MarshalBundle encodes a bundle as talosctl's secrets.yaml does.
func MarshalBundle(b *tsecrets.Bundle) ([]byte, error) {
	return yaml4.Marshal(b)
}

// UnmarshalBundle decodes a bundle written by MarshalBundle or talosctl.
func UnmarshalBundle(data []byte) (*tsecrets.Bundle, error) {
	b := &tsecrets.Bundle{Clock: tsecrets.NewClock()}
	if err := yaml4.Unmarshal(data, b); err != nil {
		return nil, err
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("incomplete bundle: %w", err)
	}
	return b, nil
}

// LoadBundle decrypts the bundle at path into memory. opts are lib/secrets
// options (the age identities to use).
func LoadBundle(path string, opts ...secrets.Option) (*tsecrets.Bundle, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoBundle, path)
	}
	plain, err := secrets.DecryptFile(path, opts...)
	if err != nil {
		return nil, fmt.Errorf("decrypt the Talos secrets bundle: %w", err)
	}
	b, err := UnmarshalBundle(plain)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// SaveBundle encrypts a new bundle to path (0600) with the creation rule of
// .sops.yaml for it, through secrets.WriteEncrypted: before anything is
// written it proves the encrypted file opens with the caller's key, so a
// bundle nobody here can read is never kept (secrets.ErrNoCallerKey), and
// placeholder recipients are refused (secrets.ErrPlaceholder); the
// plaintext never touches the disk. It never overwrites. opts are
// lib/secrets options; with secrets.WithDryRun it proves all that and
// writes nothing.
func SaveBundle(path string, b *tsecrets.Bundle, opts ...secrets.Option) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists; a bundle is made once and never replaced (it would change every cluster certificate)", path)
	}
	plain, err := MarshalBundle(b)
	if err != nil {
		return err
	}
	if err := secrets.WriteEncrypted(path, plain, opts...); err != nil {
		return fmt.Errorf("the new Talos secrets bundle was not saved: %w", err)
	}
	return nil
}
