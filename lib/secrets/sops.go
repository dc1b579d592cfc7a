package secrets

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/shamir"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"github.com/getsops/sops/v3/version"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// ConfigFile is the name of the SOPS configuration.
const ConfigFile = ".sops.yaml"

// options configure the operations.
type options struct {
	identities []age.Identity
	config     string
	log        *slog.Logger
	staged     bool
	dryRun     bool
	forOthers  bool
}

// Option configures an operation.
type Option func(*options)

// WithIdentities decrypts with these age identities only, held in memory,
// instead of the key from the environment or the default key file.
func WithIdentities(ids ...age.Identity) Option {
	return func(o *options) { o.identities = append(o.identities, ids...) }
}

// WithConfig uses this .sops.yaml instead of the nearest one above the file.
func WithConfig(path string) Option { return func(o *options) { o.config = path } }

// WithStaged makes Check read the git index, the content the next commit
// will hold, instead of the working tree.
func WithStaged() Option { return func(o *options) { o.staged = true } }

// WithDryRun makes the operations that write files (EncryptFile,
// WriteEncrypted, DecryptToFile, Edit, UpdateKeys, UpdateAllKeys, Rotate,
// SetRecipient, Keygen, InstallHook) check and report what they would do,
// and write nothing. The operations that write ciphertext still prove that
// the result opens with the caller's key.
func WithDryRun() Option { return func(o *options) { o.dryRun = true } }

// WithLogger sets the logger (default: discard). Secrets never reach it.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func newOptions(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// ErrNoRule means no creation rule of .sops.yaml matches a file.
var ErrNoRule = errors.New("no matching creation rule")

// ErrNotEncrypted means a file holds no SOPS metadata.
var ErrNotEncrypted = errors.New("not encrypted with sops")

// ErrTampered means an encrypted file was changed without sops: a value
// no longer authenticates, or the content no longer matches the MAC.
var ErrTampered = errors.New("changed without sops")

// ErrMACMismatch means a file's content no longer matches its MAC. Errors
// that wrap it wrap ErrTampered too.
var ErrMACMismatch = errors.New("MAC mismatch")

// storeFor returns the SOPS store for a file by its extension, with the
// defaults of sops (stores settings of .sops.yaml are applied by
// options.store).
func storeFor(path string) (sops.Store, error) {
	return storeWith(path, config.NewStoresConfig())
}

func storeWith(path string, sc *config.StoresConfig) (sops.Store, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return sopsyaml.NewStore(&sc.YAML), nil
	case ".json":
		return sopsjson.NewStore(&sc.JSON), nil
	}
	return nil, fmt.Errorf("%s: only YAML and JSON files are handled (by their extension)", path)
}

// store returns the SOPS store for a file with the stores settings (such
// as the YAML indent) of its .sops.yaml, so that files come out exactly as
// the sops CLI writes them.
func (o options) store(path string) (sops.Store, error) {
	if _, err := storeFor(path); err != nil {
		return nil, err
	}
	sc := config.NewStoresConfig()
	if conf, err := o.findConfig(path); err == nil {
		if sc, err = config.LoadStoresConfig(conf); err != nil {
			return nil, fmt.Errorf("read %s: %w", conf, err)
		}
	}
	return storeWith(path, sc)
}

// findConfig returns the .sops.yaml to use for a file: the given one, or the
// nearest in the file's directory or above.
func (o options) findConfig(path string) (string, error) {
	if o.config != "" {
		return o.config, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		candidate := filepath.Join(dir, ConfigFile)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		if dir == filepath.Dir(dir) {
			return "", fmt.Errorf("%s: no %s in its directory or above it", path, ConfigFile)
		}
	}
}

// rule loads the creation rule of .sops.yaml that matches path.
func (o options) rule(path string) (*config.Config, string, error) {
	conf, err := o.findConfig(path)
	if err != nil {
		return nil, "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	c, err := config.LoadCreationRuleForFile(conf, abs, nil)
	if err != nil {
		if strings.Contains(err.Error(), "no matching creation rules") {
			return nil, conf, fmt.Errorf("%w: no creation_rules path_regex in %s matches %s; encrypted files live under secrets/ or kubernetes/ as *.enc.yaml", ErrNoRule, conf, path)
		}
		return nil, conf, fmt.Errorf("read %s: %w", conf, err)
	}
	if c == nil {
		return nil, conf, fmt.Errorf("%w: %s has no creation_rules", ErrNoRule, conf)
	}
	return c, conf, nil
}

// Encrypt encrypts plaintext as the file at path, honouring the matching
// creation rule of .sops.yaml: its age recipients, and which values to
// encrypt (encrypted_regex such as ^(data|stringData)$, or everything). It
// refuses placeholder recipients (*PlaceholderError). It writes nothing and
// does not check that the caller can open the result: WriteEncrypted does.
func Encrypt(path string, plaintext []byte, opts ...Option) ([]byte, error) {
	s, err := newOptions(opts).encrypt(path, plaintext)
	return s.out, err
}

// encrypt encrypts as Encrypt does, and also returns the plaintext the
// result must decrypt to and the age recipients the rule encrypted to.
func (o options) encrypt(path string, plaintext []byte) (sealed, error) {
	st, err := o.store(path)
	if err != nil {
		return sealed{}, err
	}
	rule, conf, err := o.rule(path)
	if err != nil {
		return sealed{}, err
	}
	branches, err := st.LoadPlainFile(plaintext)
	if err != nil {
		return sealed{}, fmt.Errorf("%s: read as %s: %w", path, st.Name(), err)
	}
	if _, err := st.LoadEncryptedFile(plaintext); err == nil {
		return sealed{}, fmt.Errorf("%s is already encrypted with sops", path)
	}
	want, err := st.EmitPlainFile(branches)
	if err != nil {
		return sealed{}, fmt.Errorf("%s: %w", path, err)
	}
	abs, _ := filepath.Abs(path)
	tree := sops.Tree{Branches: branches, FilePath: abs, Metadata: sops.Metadata{
		KeyGroups:               rule.KeyGroups,
		ShamirThreshold:         rule.ShamirThreshold,
		UnencryptedSuffix:       rule.UnencryptedSuffix,
		EncryptedSuffix:         rule.EncryptedSuffix,
		UnencryptedRegex:        rule.UnencryptedRegex,
		EncryptedRegex:          rule.EncryptedRegex,
		UnencryptedCommentRegex: rule.UnencryptedCommentRegex,
		EncryptedCommentRegex:   rule.EncryptedCommentRegex,
		MACOnlyEncrypted:        rule.MACOnlyEncrypted,
		Version:                 version.Version,
	}}
	recipients := ageRecipients(tree)
	if len(recipients) == 0 {
		return sealed{}, fmt.Errorf("%s: the creation rule has no age recipient", path)
	}
	if err := refusePlaceholders(path, conf, true, recipients); err != nil {
		return sealed{}, err
	}
	dataKey, errs := tree.GenerateDataKeyWithKeyServices(localKeys())
	if len(errs) > 0 {
		return sealed{}, fmt.Errorf("%s: encrypt the data key: %v", path, errors.Join(errs...))
	}
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: &tree, Cipher: aes.NewCipher(), DataKey: dataKey}); err != nil {
		return sealed{}, fmt.Errorf("%s: %w", path, err)
	}
	out, err := st.EmitEncryptedFile(tree)
	if err != nil {
		return sealed{}, fmt.Errorf("%s: write encrypted: %w", path, err)
	}
	return sealed{out: out, want: want, recipients: recipients}, nil
}

// Decrypt decrypts a SOPS file's content in memory and verifies its MAC.
// The key comes from WithIdentities, else SOPS_AGE_KEY, SOPS_AGE_KEY_FILE or
// the default key file (~/.config/sops/age/keys.txt).
//
// A damaged file is named by line (*DamageError): truncated (ErrTruncated),
// or holding plaintext where sops requires ciphertext (ErrTampered).
func Decrypt(path string, ciphertext []byte, opts ...Option) ([]byte, error) {
	return newOptions(opts).decrypt(path, ciphertext)
}

// decrypt decrypts data, verified, into the plaintext as the store emits it.
func (o options) decrypt(path string, data []byte) ([]byte, error) {
	f, err := o.openVerified(path, data)
	if err != nil {
		return nil, err
	}
	out, err := f.store.EmitPlainFile(f.tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("%s: write plaintext: %w", path, err)
	}
	return out, nil
}

// DecryptFile reads and decrypts a file, into memory only.
func DecryptFile(path string, opts ...Option) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decrypt(path, data, opts...)
}

// EncryptFile encrypts a plaintext file in place (0600) and returns the
// recipients it is now encrypted to. The plaintext is replaced only once
// the ciphertext has been decrypted in memory with the caller's key and
// found to hold it; when no key the caller holds opens it, nothing is
// written (*UnreadableResultError, ErrNoCallerKey). Placeholder
// recipients are refused (*PlaceholderError). WithForOthers leaves the
// plaintext untouched and writes the ciphertext beside it, to
// ForOthersPath(path), for recipients the caller need not be one of.
func EncryptFile(path string, opts ...Option) ([]string, error) {
	o := newOptions(opts)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if o.forOthers {
		return o.encryptForOthers(path, data)
	}
	s, err := o.encrypt(path, data)
	if err != nil {
		return nil, err
	}
	return s.recipients, o.replace(path, s, nil)
}

// DecryptToFile decrypts a file and writes the plaintext to out with mode
// 0600, atomically: out never holds a partial plaintext.
func DecryptToFile(path, out string, opts ...Option) error {
	plain, err := DecryptFile(path, opts...)
	if err != nil {
		return err
	}
	if newOptions(opts).dryRun {
		return nil
	}
	return writePrivate(out, plain)
}

// opened is an encrypted file loaded with its data key.
type opened struct {
	tree  *sops.Tree
	store sops.Store
	key   []byte
	// ids are the caller's identities that recovered the key.
	ids []age.Identity
}

// load reads an encrypted file and recovers its data key with the
// caller's identities.
func (o options) load(path string, data []byte) (*opened, error) {
	st, err := o.store(path)
	if err != nil {
		return nil, err
	}
	tree, err := st.LoadEncryptedFile(data)
	if err != nil {
		if strings.Contains(err.Error(), "sops metadata not found") {
			return nil, fmt.Errorf("%s: %w", path, ErrNotEncrypted)
		}
		return nil, fmt.Errorf("%s: read encrypted file: %w", path, err)
	}
	tree.FilePath, _ = filepath.Abs(path)
	if r := ageRecipients(tree); onlyPlaceholders(tree.Metadata.KeyGroups) {
		return nil, &NoIdentityError{Path: path, Recipients: r} // no key anywhere opens it
	}
	ids, err := o.callerIdentities()
	if err != nil {
		return nil, err
	}
	dataKey, err := dataKey(path, tree, ids)
	if err != nil {
		return nil, err
	}
	return &opened{tree: &tree, store: st, key: dataKey, ids: ids}, nil
}

// openVerified opens an encrypted file and decrypts its values in place,
// verifying every value and the MAC. A damaged file is named by line (see
// explain).
func (o options) openVerified(path string, data []byte) (*opened, error) {
	f, err := o.load(path, data)
	if err == nil {
		err = verifiedDecrypt(path, data, f.tree, f.key)
	}
	if err != nil {
		return nil, explain(path, data, err)
	}
	return f, nil
}

// dataKey recovers the data key with age identities, across key groups.
func dataKey(path string, tree sops.Tree, ids []age.Identity) ([]byte, error) {
	parsed := sopsage.ParsedIdentities(ids)
	var parts [][]byte
	for _, group := range tree.Metadata.KeyGroups {
		for _, k := range group {
			mk, ok := k.(*sopsage.MasterKey)
			if !ok {
				continue
			}
			parsed.ApplyToMasterKey(mk)
			if part, err := mk.Decrypt(); err == nil {
				parts = append(parts, part)
				break
			}
		}
	}
	switch {
	case len(tree.Metadata.KeyGroups) == 1 && len(parts) == 1:
		return parts[0], nil
	case len(tree.Metadata.KeyGroups) > 1 && len(parts) >= max(tree.Metadata.ShamirThreshold, 1):
		key, err := shamir.Combine(parts)
		if err != nil {
			return nil, fmt.Errorf("%s: combine the key groups: %w", path, err)
		}
		return key, nil
	}
	return nil, &NoIdentityError{Path: path, Recipients: ageRecipients(tree), Identities: publicKeys(ids)}
}

// NoIdentityError means none of the age identities can decrypt a file.
type NoIdentityError struct {
	// Path is the file.
	Path string
	// Recipients are the age recipients it is encrypted to.
	Recipients []string
	// Identities are the public keys of the identities tried.
	Identities []string
}

// Lost reports whether the file is encrypted only to placeholder
// recipients: no key anywhere opens it.
func (e *NoIdentityError) Lost() bool {
	return len(e.Recipients) > 0 && !slices.ContainsFunc(e.Recipients, func(r string) bool { return !IsPlaceholder(r) })
}

// onlyPlaceholders reports whether every key of the key groups is an age
// placeholder recipient.
func onlyPlaceholders(groups []sops.KeyGroup) bool {
	n := 0
	for _, g := range groups {
		for _, k := range g {
			if mk, ok := k.(*sopsage.MasterKey); !ok || !IsPlaceholder(mk.Recipient) {
				return false
			}
			n++
		}
	}
	return n > 0
}

// Error lists who the file is encrypted to, which keys were tried, and
// what to do.
func (e *NoIdentityError) Error() string {
	if e.Lost() {
		return fmt.Sprintf("%s: it is encrypted only to the placeholder recipient(s) %s, whose private keys do not exist: nobody can decrypt it, and its content is lost; restore an earlier version from git if one was encrypted to a real key, else make the secret again",
			e.Path, strings.Join(e.Recipients, ", "))
	}
	return fmt.Sprintf("%s: no age identity matches recipients %s (tried the keys of %s); someone who can decrypt it must add your public key to its rule in %s and re-key it",
		e.Path, strings.Join(e.Recipients, ", "), strings.Join(e.Identities, ", "), ConfigFile)
}

// verifiedDecrypt decrypts the tree of data in place and checks its MAC.
func verifiedDecrypt(path string, data []byte, tree *sops.Tree, dataKey []byte) error {
	cipher := aes.NewCipher()
	if bad := unauthentic(tree.Branches, dataKey); bad != "" {
		key := strings.ReplaceAll(strings.TrimSuffix(bad, ":"), ":", ".")
		return &DamageError{Path: path, Line: keyLine(data, bad), Key: key, Err: ErrTampered,
			What: "the value of " + key + " does not authenticate (edited by hand, or moved from another key)"}
	}
	computed, err := tree.Decrypt(dataKey, cipher)
	if err != nil {
		return fmt.Errorf("%s: decrypt: %s", path, sopsFormat.ReplaceAllString(err.Error(), "a value is not in sops' ciphertext format"))
	}
	stored, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, dataKey, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("%s: %w (%w): the MAC itself does not authenticate; restore the file from git (git checkout -- %s)", path, ErrMACMismatch, ErrTampered, path)
	}
	if stored != computed {
		return fmt.Errorf("%s: %w: the content no longer matches the MAC: it was %w; restore it from git (git checkout -- %s) and change its values only through sops", path, ErrMACMismatch, ErrTampered, path)
	}
	return nil
}

// sopsFormat matches the error of sops for a value that is not ciphertext,
// which repeats the value: a secret typed in by hand must not reach a log.
var sopsFormat = regexp.MustCompile(`Input string .* does not match sops' data format`)

// unauthentic returns the key path (as sops writes it, "a:b:") of the
// first encrypted value that does not decrypt under its own path, or "".
func unauthentic(branches sops.TreeBranches, key []byte) string {
	cipher := aes.NewCipher()
	var walk func(v any, path []string) string
	walk = func(v any, path []string) string {
		switch v := v.(type) {
		case sops.TreeBranch:
			for _, item := range v {
				k, ok := item.Key.(string)
				if !ok {
					continue // comments
				}
				if bad := walk(item.Value, append(slices.Clip(path), k)); bad != "" {
					return bad
				}
			}
		case []any:
			for _, e := range v {
				if bad := walk(e, path); bad != "" {
					return bad
				}
			}
		case string:
			if !strings.HasPrefix(v, "ENC[") {
				return ""
			}
			aad := strings.Join(path, ":") + ":"
			if _, err := cipher.Decrypt(v, key, aad); err != nil {
				return aad
			}
		}
		return ""
	}
	for _, b := range branches {
		if bad := walk(b, nil); bad != "" {
			return bad
		}
	}
	return ""
}

// ageRecipients lists a tree's age recipients.
func ageRecipients(tree sops.Tree) []string { return groupRecipients(tree.Metadata.KeyGroups) }

// UpdateKeys re-keys an encrypted file to the recipients its creation rule
// now lists (after a recipient was added to or removed from .sops.yaml),
// keeping its data key and content. It reports whether anything changed.
// The file is replaced only once the re-keyed file has been decrypted in
// memory with the caller's key and found to hold the same content: a rule
// that no longer lists a key the caller holds is refused
// (*UnreadableResultError), and so are placeholder recipients
// (*PlaceholderError); the file then stays as it was.
func UpdateKeys(path string, opts ...Option) (bool, error) {
	u, err := newOptions(opts).updateKeys(path)
	return u.Changed, err
}

func (o options) updateKeys(path string) (KeyUpdate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return KeyUpdate{Path: path}, err
	}
	f, err := o.openVerified(path, data)
	if err != nil {
		return KeyUpdate{Path: path}, err
	}
	want, err := f.store.EmitPlainFile(f.tree.Branches)
	if err != nil {
		return KeyUpdate{Path: path}, fmt.Errorf("%s: %w", path, err)
	}
	tree, err := f.store.LoadEncryptedFile(data) // the values as they are, still encrypted
	if err != nil {
		return KeyUpdate{Path: path}, fmt.Errorf("%s: read encrypted file: %w", path, err)
	}
	rule, conf, err := o.rule(path)
	if err != nil {
		return KeyUpdate{Path: path}, err
	}
	if sameRecipients(tree.Metadata.KeyGroups, rule.KeyGroups) {
		return KeyUpdate{Path: path}, nil
	}
	old, recipients := ageRecipients(tree), groupRecipients(rule.KeyGroups)
	if err := refusePlaceholders(path, conf, true, recipients); err != nil {
		return KeyUpdate{Path: path}, err
	}
	tree.Metadata.KeyGroups = rule.KeyGroups
	tree.Metadata.ShamirThreshold = rule.ShamirThreshold
	if errs := tree.Metadata.UpdateMasterKeysWithKeyServices(f.key, localKeys()); len(errs) > 0 {
		return KeyUpdate{Path: path}, fmt.Errorf("%s: encrypt the data key for the new recipients: %v", path, errors.Join(errs...))
	}
	out, err := f.store.EmitEncryptedFile(tree)
	if err != nil {
		return KeyUpdate{Path: path}, fmt.Errorf("%s: write: %w", path, err)
	}
	if err := o.replace(path, sealed{out: out, want: want, recipients: recipients}, f.ids); err != nil {
		return KeyUpdate{Path: path}, err
	}
	return KeyUpdate{Path: path, Changed: true, Added: minus(recipients, old), Removed: minus(old, recipients)}, nil
}

// minus returns the elements of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func sameRecipients(a, b []sops.KeyGroup) bool {
	ids := func(groups []sops.KeyGroup) []string {
		var out []string
		for _, g := range groups {
			for _, k := range g {
				out = append(out, k.ToString())
			}
			out = append(out, "|")
		}
		return out
	}
	x, y := ids(a), ids(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// ErrStaleRecipient means Rotate refused a file that is still encrypted to
// a recipient its creation rule no longer lists: the new data key would go
// to that recipient too. Re-key the file first (UpdateKeys).
var ErrStaleRecipient = errors.New("still encrypted to a recipient its rule no longer lists")

// Rotate gives an encrypted file a new data key and re-encrypts every
// value with it, for the recipients the file has (after a recipient left,
// rotate what they could read). A file still encrypted to a recipient its
// creation rule no longer lists is refused (ErrStaleRecipient): re-key it
// first. Placeholder recipients are refused (*PlaceholderError). Like every
// operation that writes ciphertext, it replaces the file only once the
// result has been decrypted in memory with the caller's key and found to
// hold the same content.
func Rotate(path string, opts ...Option) error {
	o := newOptions(opts)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := o.openVerified(path, data)
	if err != nil {
		return err
	}
	recipients := ageRecipients(*f.tree)
	rule, conf, err := o.rule(path)
	switch {
	case err == nil:
		if stale := minus(recipients, groupRecipients(rule.KeyGroups)); len(stale) > 0 {
			return fmt.Errorf("%s: %w: %s, which the rule in %s no longer lists; re-key it first, or the new data key goes to them too; nothing was written",
				path, ErrStaleRecipient, strings.Join(stale, ", "), conf)
		}
	case conf != "" && !errors.Is(err, ErrNoRule):
		return err
	}
	if err := refusePlaceholders(path, conf, false, recipients); err != nil {
		return err
	}
	want, err := f.store.EmitPlainFile(f.tree.Branches)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	newKey, errs := f.tree.GenerateDataKeyWithKeyServices(localKeys())
	if len(errs) > 0 {
		return fmt.Errorf("%s: encrypt the new data key: %v", path, errors.Join(errs...))
	}
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: f.tree, Cipher: aes.NewCipher(), DataKey: newKey}); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out, err := f.store.EmitEncryptedFile(*f.tree)
	if err != nil {
		return fmt.Errorf("%s: write: %w", path, err)
	}
	return o.replace(path, sealed{out: out, want: want, recipients: recipients}, f.ids)
}

// writePrivate writes a file atomically with mode 0600.
func writePrivate(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o600)
}

// localKeys encrypts data keys in-process (age needs only the recipients).
func localKeys() []keyservice.KeyServiceClient {
	return []keyservice.KeyServiceClient{keyservice.NewLocalClient()}
}
