//go:build mage

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/lib/secrets"
)

// Secrets encrypts, decrypts and guards the SOPS + age secrets.
type Secrets mg.Namespace

// secretsOptions are the options every secrets target shares.
func secretsOptions(dryrun *bool) []secrets.Option {
	opts := []secrets.Option{secrets.WithLogger(logger())}
	if isSet(dryrun) {
		opts = append(opts, secrets.WithDryRun())
	}
	return opts
}

// Keygen creates your age key (0600) at the standard path, prints its public key, and never overwrites one.
func (Secrets) Keygen(
	// where to write the key (default: $SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt)
	file *string,
	// say what would be created and write nothing
	dryrun *bool,
) error {
	path := os.Getenv(secrets.EnvAgeKeyFile)
	if file != nil && *file != "" {
		path = *file
	}
	if path == "" {
		var err error
		if path, err = secrets.DefaultKeyFile(); err != nil {
			return err
		}
	}
	pub, err := secrets.Keygen(path, secretsOptions(dryrun)...)
	if err != nil {
		return err
	}
	if isSet(dryrun) {
		fmt.Printf("would create an age key at %s (mode 0600)\n", path)
		return nil
	}
	fmt.Printf("created %s (mode 0600); back it up somewhere safe.\npublic key: %s\nput it in .sops.yaml (docs/operations/secrets.md), then run go run mage.go secrets:updatekeys\n", path, pub)
	return nil
}

// Encrypt encrypts FILE in place as the matching .sops.yaml rule says.
func (Secrets) Encrypt(file string,
	// say which recipients would be used and write nothing
	dryrun *bool,
) error {
	recipients, err := secrets.EncryptFile(file, secretsOptions(dryrun)...)
	if err != nil {
		return err
	}
	verb := "encrypted"
	if isSet(dryrun) {
		verb = "would encrypt"
	}
	fmt.Printf("%s %s for %d recipient(s): %v\n", verb, file, len(recipients), recipients)
	return nil
}

// Decrypt prints FILE decrypted (verifying its MAC), or writes it with mode 0600 to -out=PATH.
func (Secrets) Decrypt(file string,
	// write the plaintext to this file (mode 0600) instead of stdout
	out *string,
	// with -out: check the file decrypts and write nothing
	dryrun *bool,
) error {
	if out != nil && *out != "" {
		if err := secrets.DecryptToFile(file, *out, secretsOptions(dryrun)...); err != nil {
			return err
		}
		if isSet(dryrun) {
			fmt.Fprintf(os.Stderr, "%s decrypts; would write %s (mode 0600)\n", file, *out)
			return nil
		}
		fmt.Fprintf(os.Stderr, "wrote %s (mode 0600); delete it when done\n", *out)
		return nil
	}
	plain, err := secrets.DecryptFile(file, secretsOptions(nil)...)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(plain)
	return err
}

// Edit opens FILE decrypted in $EDITOR and re-encrypts it on save; a new FILE is created under its rule.
func (Secrets) Edit(ctx context.Context, file string,
	// check the file opens (or may be created under a rule) and start no editor
	dryrun *bool,
) error {
	changed, err := secrets.Edit(ctx, file, secrets.EditOptions{}, secretsOptions(dryrun)...)
	if err != nil {
		return err
	}
	if isSet(dryrun) {
		fmt.Printf("%s opens; would edit it in $VISUAL/$EDITOR and re-encrypt on save\n", file)
		return nil
	}
	if !changed {
		fmt.Printf("%s unchanged\n", file)
		return nil
	}
	fmt.Printf("%s saved, encrypted\n", file)
	return nil
}

// Updatekeys re-keys every encrypted file to the recipients .sops.yaml lists now (after adding or removing a key).
func (Secrets) Updatekeys(ctx context.Context,
	// say which files would be re-keyed and write nothing
	dryrun *bool,
) error {
	res, err := secrets.UpdateAllKeys(ctx, ".", secretsOptions(dryrun)...)
	changed := 0
	for _, r := range res {
		switch {
		case r.Err != nil:
			fmt.Printf("FAIL  %s\n", r.Path)
		case r.Changed && isSet(dryrun):
			changed++
			fmt.Printf("would re-key  %s\n", r.Path)
		case r.Changed:
			changed++
			fmt.Printf("re-keyed  %s\n", r.Path)
		default:
			fmt.Printf("ok  %s\n", r.Path)
		}
	}
	if err != nil {
		return err
	}
	if changed == 0 {
		fmt.Printf("nothing to do: %d encrypted file(s) already match .sops.yaml\n", len(res))
	}
	return nil
}

// Rotate gives FILE a new data key and re-encrypts every value (after a key was removed).
func (Secrets) Rotate(file string,
	// check that the file can be rotated and write nothing
	dryrun *bool,
) error {
	if err := secrets.Rotate(file, secretsOptions(dryrun)...); err != nil {
		return err
	}
	if isSet(dryrun) {
		fmt.Printf("would rotate the data key of %s\n", file)
		return nil
	}
	fmt.Printf("rotated the data key of %s; commit it\n", file)
	return nil
}

// Check fails on plaintext secrets in the repository's files, naming file and line (-staged checks what the next commit holds).
func (Secrets) Check(ctx context.Context,
	// check the git index (what the next commit holds) instead of the working tree
	staged *bool,
) error {
	opts := secretsOptions(nil)
	if isSet(staged) {
		opts = append(opts, secrets.WithStaged())
	}
	rep, err := secrets.Check(ctx, ".", opts...)
	if err != nil {
		return err
	}
	if err := rep.WriteSummary(os.Stdout); err != nil {
		return err
	}
	return rep.Err()
}

// Hook installs secrets:check as the git pre-commit hook of this clone.
func (Secrets) Hook(ctx context.Context,
	// say what would be installed and write nothing
	dryrun *bool,
) error {
	path, changed, err := secrets.InstallHook(ctx, ".", secretsOptions(dryrun)...)
	switch {
	case err != nil:
		return err
	case !changed:
		fmt.Printf("%s is already installed; nothing to do\n", path)
	case isSet(dryrun):
		fmt.Printf("would install %s\n", path)
	default:
		fmt.Printf("installed %s: every commit now runs secrets:check on what it holds\n", path)
	}
	return nil
}
