//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/internal/precommit"
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

// secretsAdvice adds to an error of lib/secrets the commands that fix it,
// in order. file is the file a target was given ("" for none); encrypt says
// the target can encrypt for others only instead.
func secretsAdvice(err error, file string, encrypt bool) error {
	if err == nil {
		return nil
	}
	var steps []string
	var placeholder *secrets.PlaceholderError
	var noID *secrets.NoIdentityError
	var damage *secrets.DamageError
	switch {
	case errors.As(err, &placeholder):
		if _, keyErr := secrets.LoadIdentities(); keyErr != nil {
			steps = append(steps, "go run mage.go secrets:keygen    # your key, if you have none yet")
		}
		for _, anchor := range placeholder.Anchors() {
			switch anchor {
			case "admin":
				steps = append(steps, "go run mage.go secrets:recipient admin    # your key in place of the &admin placeholder")
			default:
				steps = append(steps, fmt.Sprintf("go run mage.go secrets:keygen -file=$HOME/homelab-%s.agekey    # keep this key safe and offline", anchor),
					fmt.Sprintf("go run mage.go secrets:recipient %s -key=<public-key>    # the public key the line above printed", anchor))
			}
		}
		if !placeholder.FromRule {
			steps = append(steps, "go run mage.go secrets:updatekeys    # re-keys the file to them")
		}
	case errors.Is(err, secrets.ErrNoCallerKey) && errors.Is(err, secrets.ErrNoKey):
		steps = append(steps, "go run mage.go secrets:keygen", "go run mage.go secrets:recipient admin    # or add its public key to the file's rule in .sops.yaml")
	case errors.Is(err, secrets.ErrNoCallerKey):
		steps = append(steps, "go run mage.go secrets:recipient admin    # your key as &admin, or add it to the file's rule in .sops.yaml")
	case errors.Is(err, secrets.ErrNoKey):
		steps = append(steps, "go run mage.go secrets:keygen    # or point SOPS_AGE_KEY_FILE at your key")
	case errors.As(err, &noID) && noID.Lost():
		if _, keyErr := secrets.LoadIdentities(); keyErr != nil {
			steps = append(steps, "go run mage.go secrets:keygen    # your key, if you have none yet")
		}
		steps = append(steps, "go run mage.go secrets:recipient admin    # real keys in .sops.yaml, so it cannot happen again",
			"git rm "+noID.Path+"    # or rm, if it was never committed",
			"go run mage.go secrets:edit "+noID.Path+"    # make the secret again")
	case errors.As(err, &noID):
		steps = append(steps, "go run mage.go secrets:keygen -dryrun    # where your key is; your public key is in it (# public key:)",
			"someone who can decrypt it: go run mage.go secrets:recipient NAME -key=<your public key> (or add it to the rule in .sops.yaml), then go run mage.go secrets:updatekeys")
	case errors.Is(err, secrets.ErrStaleRecipient):
		steps = append(steps, "go run mage.go secrets:updatekeys", "go run mage.go secrets:rotate "+file)
	case errors.As(err, &damage) && errors.Is(err, secrets.ErrTampered):
		steps = append(steps, "git checkout -- "+damage.Path, "go run mage.go secrets:edit "+damage.Path)
	}
	if len(steps) == 0 {
		return err
	}
	if encrypt && file != "" && errors.Is(err, secrets.ErrNoCallerKey) {
		steps = append(steps, "or, to encrypt for the recipients only and keep the plaintext: go run mage.go secrets:encrypt "+file+" -forothers")
	}
	return fmt.Errorf("%w\nrun, in order:\n  %s", err, strings.Join(steps, "\n  "))
}

// Keygen creates your age key (0600) at the standard path, prints its public key, and never overwrites one.
//
// Creates an age key (mode 0600, directory 0700) at `$SOPS_AGE_KEY_FILE`, else
// `~/.config/sops/age/keys.txt`, and prints its public key and the
// `secrets:recipient` command that puts it in `.sops.yaml`. Never overwrites a
// key.
func (Secrets) Keygen(
	// where to write the key (default: $SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt)
	file *string,
	// say what would be created and write nothing
	dryrun *bool,
) error {
	path := value(file)
	if path == "" {
		var err error
		if path, err = secrets.KeyFile(); err != nil {
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
	fmt.Printf("created %s (mode 0600); back it up somewhere safe and offline.\npublic key: %s\n", path, pub)
	fmt.Printf("make it a recipient in .sops.yaml: go run mage.go secrets:recipient admin -key=%s\n(admin: your workstation; cluster: the key Flux decrypts with), then go run mage.go secrets:updatekeys\n", pub)
	return nil
}

// Encrypt encrypts FILE in place as the matching .sops.yaml rule says, once it has proved your key opens the result.
//
// Encrypts a plaintext YAML or JSON file in place (0600) as its `.sops.yaml`
// creation rule says: recipients, and `data`/`stringData` only for Kubernetes
// Secrets. Replaces the plaintext only after decrypting the result in memory
// with your key; refuses, writing nothing, when no key you hold opens it or
// the rule lists a placeholder recipient, and prints the commands that fix it.
// `-forothers` keeps FILE and writes the ciphertext beside it (`x.dec.yaml` or
// `x.yaml` to `x.enc.yaml`), never over a file.
func (Secrets) Encrypt(file string,
	// for the recipients only: keep FILE, write the ciphertext beside it (x.dec.yaml or x.yaml to x.enc.yaml)
	forothers *bool,
	// say which recipients would be used and write nothing
	dryrun *bool,
) error {
	opts := secretsOptions(dryrun)
	if isSet(forothers) {
		opts = append(opts, secrets.WithForOthers())
	}
	recipients, err := secrets.EncryptFile(file, opts...)
	if err != nil {
		return secretsAdvice(err, file, true)
	}
	verb := "encrypted"
	if isSet(dryrun) {
		verb = "would encrypt"
	}
	if !isSet(forothers) {
		fmt.Printf("%s %s for %d recipient(s): %v; your key opens it\n", verb, file, len(recipients), recipients)
		return nil
	}
	out, err := secrets.ForOthersPath(file)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s into %s for %d recipient(s): %v; for others only: it was not checked against your key\n", verb, file, out, len(recipients), recipients)
	fmt.Printf("%s is untouched and still plaintext: delete it once %s is committed (git ignores *.dec.* files, not others)\n", file, out)
	return nil
}

// Decrypt prints FILE decrypted (verifying its MAC), or writes it with mode 0600 to -out=PATH.
//
// Prints the decrypted file after verifying its MAC, or writes it to `PATH`
// with mode 0600. A damaged file is named by line: a truncated file, or a
// plaintext value or key where ciphertext belongs (key path and line, the
// value not repeated).
func (Secrets) Decrypt(file string,
	// write the plaintext to this file (mode 0600) instead of stdout
	out *string,
	// with -out: check the file decrypts and write nothing
	dryrun *bool,
) error {
	if out != nil && *out != "" {
		if err := secrets.DecryptToFile(file, *out, secretsOptions(dryrun)...); err != nil {
			return secretsAdvice(err, file, false)
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
		return secretsAdvice(err, file, false)
	}
	_, err = os.Stdout.Write(plain)
	return err
}

// Edit opens FILE decrypted in $EDITOR and re-encrypts it on save; a new FILE is created under its rule.
//
// Decrypts into a private 0600 temporary file, opens `$VISUAL`/`$EDITOR`,
// re-encrypts what was saved; creates `FILE` when it does not exist. The
// temporary file is removed on every way out. Refuses before the editor opens
// a file it could not save (placeholder recipients, a new file no key you hold
// would open); saves only what your key opens.
func (Secrets) Edit(ctx context.Context, file string,
	// check the file opens (or may be created under a rule) and start no editor
	dryrun *bool,
) error {
	changed, err := secrets.Edit(ctx, file, secrets.EditOptions{}, secretsOptions(dryrun)...)
	if err != nil {
		return secretsAdvice(err, file, false)
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
//
// Re-keys every encrypted file to the recipients its rule lists now (after a
// key was added to or removed from `.sops.yaml`), keeping the values; says
// which files changed and which recipients they gained or lost, and prints the
// `secrets:rotate` commands for files that lost one. Refuses a file its new
// recipients would lock you out of, or that would go to a placeholder.
func (Secrets) Updatekeys(ctx context.Context,
	// say which files would be re-keyed and write nothing
	dryrun *bool,
) error {
	res, err := secrets.UpdateAllKeys(ctx, ".", secretsOptions(dryrun)...)
	changed := 0
	var rotate []string
	for _, r := range res {
		switch {
		case r.Err != nil:
			fmt.Printf("FAIL  %s\n", r.Path)
		case r.Changed && isSet(dryrun):
			changed++
			fmt.Printf("would re-key  %s%s\n", r.Path, recipientChanges(r))
		case r.Changed:
			changed++
			fmt.Printf("re-keyed  %s%s\n", r.Path, recipientChanges(r))
		default:
			fmt.Printf("ok  %s\n", r.Path)
		}
		if r.Err == nil && len(r.Removed) > 0 {
			rotate = append(rotate, r.Path)
		}
	}
	if len(rotate) > 0 {
		fmt.Printf("\nThe removed recipients have seen the data keys of %d file(s). Next, in order:\n", len(rotate))
		if isSet(dryrun) {
			fmt.Println("  go run mage.go secrets:updatekeys")
		}
		for _, f := range rotate {
			fmt.Printf("  go run mage.go secrets:rotate %s\n", f)
		}
		fmt.Printf("  git add .sops.yaml %s && git commit\n", strings.Join(rotate, " "))
		fmt.Println("then replace, at their source, the secrets the removed recipients may have copied (a new Proxmox token, new passwords) and store each with go run mage.go secrets:edit FILE.")
	}
	if err != nil {
		return secretsAdvice(err, "", false)
	}
	if changed == 0 {
		fmt.Printf("nothing to do: %d encrypted file(s) already match .sops.yaml\n", len(res))
	}
	return nil
}

// recipientChanges says which recipients a re-keyed file gained and lost.
func recipientChanges(r secrets.KeyUpdate) string {
	var parts []string
	if len(r.Added) > 0 {
		parts = append(parts, "added "+strings.Join(r.Added, ", "))
	}
	if len(r.Removed) > 0 {
		parts = append(parts, "removed "+strings.Join(r.Removed, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// Rotate gives FILE a new data key and re-encrypts every value (after a key was removed and secrets:updatekeys ran).
//
// Gives the file a new data key and re-encrypts every value, then prints what
// remains: commit, and replace the secrets at their source. Refuses a file
// still encrypted to a recipient its rule no longer lists (run
// `secrets:updatekeys` first).
func (Secrets) Rotate(file string,
	// check that the file can be rotated and write nothing
	dryrun *bool,
) error {
	if err := secrets.Rotate(file, secretsOptions(dryrun)...); err != nil {
		return secretsAdvice(err, file, false)
	}
	if isSet(dryrun) {
		fmt.Printf("would rotate the data key of %s\n", file)
		return nil
	}
	fmt.Printf("rotated the data key of %s: every value is encrypted again under a new key, and your key opens it.\n", file)
	fmt.Printf("The values themselves did not change: whoever could decrypt the file before may have copied them. Next, in order:\n")
	fmt.Printf("  git add %s && git commit\n", file)
	fmt.Printf("  replace each secret at its source (a new Proxmox API token, new passwords), then store the new values: go run mage.go secrets:edit %s\n", file)
	return nil
}

// Check fails on plaintext secrets in the repository's files, naming file and line (-staged checks what the next commit holds).
//
// This is the plaintext guard: it fails, naming file and line, on a file that should be
// encrypted and is not, a damaged, truncated or tampered SOPS file, a SOPS
// file nobody can open (placeholder or unknown recipients only), a Kubernetes
// Secret with plaintext values, a private key or a token. `-staged` checks the
// git index. See secrets (docs/operations/secrets.md).
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
	if fixes := checkFixes(rep.Findings); len(fixes) > 0 {
		fmt.Printf("To fix:\n  %s\n", strings.Join(fixes, "\n  "))
	}
	return rep.Err()
}

// checkFixes lists, once each, the commands that fix the findings of
// secrets:check.
func checkFixes(findings []secrets.Finding) []string {
	var out []string
	add := func(fix string) {
		if !slices.Contains(out, fix) {
			out = append(out, fix)
		}
	}
	for _, f := range findings {
		switch f.Rule {
		case secrets.RuleUnencrypted:
			add("go run mage.go secrets:encrypt " + f.Path)
		case secrets.RuleSecretManifest:
			if strings.Contains(path.Base(f.Path), ".enc.") {
				add("go run mage.go secrets:encrypt " + f.Path)
				continue
			}
			ext := path.Ext(f.Path)
			enc := strings.TrimSuffix(f.Path, ext) + ".enc" + ext
			add("git mv " + f.Path + " " + enc + " && go run mage.go secrets:encrypt " + enc)
		case secrets.RuleBrokenEncryption, secrets.RuleMACMismatch, secrets.RuleTruncated:
			add("git checkout -- " + f.Path + "    # then change it with go run mage.go secrets:edit " + f.Path)
		case secrets.RuleUnreadable:
			add("go run mage.go secrets:keygen; go run mage.go secrets:recipient admin    # real keys in .sops.yaml, if they are not there yet")
			add("git rm " + f.Path + " && go run mage.go secrets:edit " + f.Path + "    # nobody can open it: make the secret again")
		case secrets.RulePrivateKey, secrets.RuleToken:
			add("move each private key and token into an encrypted file (go run mage.go secrets:edit secrets/NAME.enc.yaml), and revoke any that was ever pushed")
		}
	}
	return out
}

// Recipient puts a public key in .sops.yaml in place of the recipient &NAME (admin, cluster), changing nothing else; your own key by default.
//
// Puts a public key (default: your own) in `.sops.yaml` in place of the
// recipient the anchor `&NAME` defines (`admin`, `cluster`), changing nothing
// else in the file; this is how the shipped placeholders are replaced. Refuses
// a placeholder or a malformed key.
func (Secrets) Recipient(name string,
	// the public key (age1...) to put in; default: your own key's
	key *string,
	// say what would change and write nothing
	dryrun *bool,
) error {
	change, err := secrets.SetRecipient(secrets.ConfigFile, name, value(key), secretsOptions(dryrun)...)
	if err != nil {
		return secretsAdvice(err, "", false)
	}
	was := change.Old
	if secrets.IsPlaceholder(was) {
		was += " (a placeholder)"
	}
	switch {
	case !change.Changed():
		fmt.Printf("&%s in %s:%d already is %s; nothing to do\n", name, change.Config, change.Line, change.New)
	case isSet(dryrun):
		fmt.Printf("would replace &%s in %s:%d: %s -> %s\n", name, change.Config, change.Line, was, change.New)
	default:
		fmt.Printf("replaced &%s in %s:%d: %s -> %s\n", name, change.Config, change.Line, was, change.New)
		fmt.Println("Files already encrypted keep their recipients until re-keyed: go run mage.go secrets:updatekeys, then commit .sops.yaml and the files together.")
	}
	return nil
}

// Hook installs the checks of .pre-commit-config.yaml (secrets guard, formatters, lint on staged files) as this clone's git pre-commit hook.
//
// Installs, as this clone's git pre-commit hook, the same three commands in
// the same order as .pre-commit-config.yaml (both come from one list,
// internal/precommit): secrets:check -staged, lint -fix on the staged files'
// formatters (the commit is refused when they changed a file, to be reviewed
// and staged), lint -staged. A hook it did not write is left alone, with the
// lines to add to it or the advice to move it away and run secrets:hook again.
func (Secrets) Hook(ctx context.Context,
	// say what would be installed and write nothing
	dryrun *bool,
) error {
	// One list, internal/precommit, makes both this hook and
	// .pre-commit-config.yaml; its marker line ("# Installed by go run
	// mage.go secrets:hook.") is the one hooks installed before carry, so
	// they are recognised and replaced.
	path, changed, err := secrets.InstallHook(ctx, ".", precommit.GitHook(), secretsOptions(dryrun)...)
	switch {
	case errors.Is(err, secrets.ErrForeignHook):
		return fmt.Errorf("%w\nonce it is moved away, run: go run mage.go secrets:hook (or, with the pre-commit framework: pre-commit install)", err)
	case err != nil:
		return err
	case !changed:
		fmt.Printf("%s is already installed; nothing to do\n", path)
	case isSet(dryrun):
		fmt.Printf("would install %s\n", path)
	default:
		fmt.Printf("installed %s: every commit now runs, in order, %s\n", path, strings.Join(precommit.GitHook().Commands(), "; "))
	}
	return nil
}
