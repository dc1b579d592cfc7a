package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"filippo.io/age"
	"gopkg.in/yaml.v3"
)

// maxScan is the largest file Check reads; bigger ones are reported as
// skipped.
const maxScan = 8 << 20

// Rule names what kind of leak a Finding is.
type Rule string

// The rules of Check.
const (
	// RuleUnencrypted: a file that a creation rule (or its .enc. name) says
	// must be encrypted carries no SOPS metadata.
	RuleUnencrypted Rule = "unencrypted"
	// RuleBrokenEncryption: a SOPS file holds a plaintext value where its
	// own rules demand ciphertext, or its MAC or metadata is damaged.
	RuleBrokenEncryption Rule = "broken-encryption"
	// RuleMACMismatch: a SOPS file's content does not match its MAC.
	RuleMACMismatch Rule = "mac-mismatch"
	// RuleTruncated: a SOPS file ends before its sops metadata is
	// complete.
	RuleTruncated Rule = "truncated"
	// RuleUnreadable: a SOPS file no key known here can open: it is
	// encrypted only to placeholder recipients, or only to recipients that
	// neither .sops.yaml nor the caller's key lists.
	RuleUnreadable Rule = "unreadable"
	// RuleSecretManifest: a Kubernetes Secret carries plaintext data or
	// stringData.
	RuleSecretManifest Rule = "plaintext-secret-manifest"
	// RulePrivateKey: a private key (PEM, OpenSSH, PGP, PuTTY, age).
	RulePrivateKey Rule = "private-key"
	// RuleToken: a token- or password-shaped value.
	RuleToken Rule = "token"
)

// Finding is one leak Check found. Its message never holds the secret.
type Finding struct {
	// Path is the file, slash-separated and relative to the checked root.
	Path string
	// Line is 1-based; 0 means the file as a whole.
	Line int
	// Rule is the kind of leak.
	Rule Rule
	// Message says what was found and what to do.
	Message string
}

// String formats a finding as "path:line: rule: message".
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.Path, f.Line, f.Rule, f.Message)
}

// Report is the outcome of Check.
type Report struct {
	// Findings are the leaks, sorted by path and line.
	Findings []Finding
	// Scanned counts the files read.
	Scanned int
	// Encrypted lists the SOPS files seen.
	Encrypted []string
	// Unverified lists the SOPS files whose MAC could not be verified
	// because no available age key decrypts them.
	Unverified []string
	// Skipped lists files not read: binary or larger than 8 MiB.
	Skipped []string
	// Allowed lists the files the allowlist excluded.
	Allowed []string
	// StaleAllow lists allowlist entries that match no file.
	StaleAllow []string
}

// LeakError is returned by Report.Err when there are findings.
type LeakError struct {
	Findings []Finding
}

// Error lists every finding on its own line.
func (e *LeakError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d plaintext secret finding(s):", len(e.Findings))
	for _, f := range e.Findings {
		b.WriteString("\n  ")
		b.WriteString(f.String())
	}
	b.WriteString("\nencrypt the file, move the value to an encrypted file, or, for a false alarm, add " + AllowMarker + " to the line or the path to " + AllowFile)
	return b.String()
}

// Err returns a *LeakError when the report has findings.
func (r *Report) Err() error {
	if len(r.Findings) == 0 {
		return nil
	}
	return &LeakError{Findings: r.Findings}
}

// source lists and reads the files to check.
type source interface {
	files(ctx context.Context) ([]string, error)
	read(ctx context.Context, rel string) ([]byte, error)
}

// Check scans the files of the repository at root for plaintext secrets:
// the files git tracks or would track (every file, when root is not in a
// git work tree), or with WithStaged the content of the git index, as a
// pre-commit hook needs. A file is a leak when a .sops.yaml creation rule
// says it must be encrypted and it is not; when it is a SOPS file with a
// plaintext value, broken metadata or, with an age key that opens it, a
// MAC that does not match; when it is a Kubernetes Secret with plaintext
// data; or when it holds a private key or a token-shaped value. The error
// is for failures to check; leaks are in the report (see Report.Err).
func Check(ctx context.Context, root string, opts ...Option) (*Report, error) {
	o := newOptions(opts)
	var src source = &worktree{root: root}
	if o.staged {
		src = &gitIndex{root: root}
	}
	files, err := src.files(ctx)
	if err != nil {
		return nil, err
	}
	allow, err := readAllow(root)
	if err != nil {
		return nil, err
	}
	rules, known, err := readPathRules(root)
	if err != nil {
		return nil, err
	}
	ids := o.identities
	if len(ids) == 0 {
		if ids, err = LoadIdentities(); err != nil {
			if !errors.Is(err, ErrNoKey) {
				return nil, err
			}
			o.log.Debug("no age key: MACs of encrypted files are not verified", "why", err)
		}
	}
	if known != nil || len(ids) > 0 {
		known = append(known, x25519Keys(ids)...)
	}
	rep := &Report{}
	used := make([]bool, len(allow))
	for _, rel := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if i := allow.match(rel); i >= 0 {
			used[i] = true
			rep.Allowed = append(rep.Allowed, rel)
			continue
		}
		data, err := src.read(ctx, rel)
		if err != nil {
			return nil, err
		}
		if data == nil {
			continue
		}
		if len(data) > maxScan || bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			rep.Skipped = append(rep.Skipped, rel)
			continue
		}
		rep.Scanned++
		s := scan{path: rel, data: data, rules: rules, ids: ids, known: known}
		s.run()
		if s.encrypted {
			rep.Encrypted = append(rep.Encrypted, rel)
			if !s.verified {
				rep.Unverified = append(rep.Unverified, rel)
			}
		}
		rep.Findings = append(rep.Findings, s.findings...)
	}
	for i, ok := range used {
		if !ok {
			rep.StaleAllow = append(rep.StaleAllow, allow[i])
		}
	}
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	o.log.Debug("secrets check done", "scanned", rep.Scanned, "encrypted", len(rep.Encrypted),
		"unverified", len(rep.Unverified), "findings", len(rep.Findings))
	return rep, nil
}

// pathRule is one creation rule's path_regex.
type pathRule struct {
	regex *regexp.Regexp
	text  string
}

// readPathRules reads the path_regex of each creation rule in
// root/.sops.yaml (none when the file is missing), and the age recipients
// it lists that are not placeholders (nil when the file is missing). A rule
// without path_regex matches everything and ends the list: it lets any file
// be encrypted, it does not demand that every file is.
func readPathRules(root string) ([]pathRule, []string, error) {
	name := filepath.Join(root, ConfigFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	named, err := configRecipients(name, data)
	if err != nil {
		return nil, nil, err
	}
	known := []string{}
	for _, r := range named {
		if !IsPlaceholder(r.Key) {
			known = append(known, r.Key)
		}
	}
	var conf struct {
		CreationRules []struct {
			PathRegex string `yaml:"path_regex"`
		} `yaml:"creation_rules"`
	}
	if err := yaml.Unmarshal(data, &conf); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []pathRule
	for i, r := range conf.CreationRules {
		if r.PathRegex == "" {
			break
		}
		re, err := regexp.Compile(r.PathRegex)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: creation_rules[%d].path_regex: %w", name, i, err)
		}
		out = append(out, pathRule{regex: re, text: r.PathRegex})
	}
	return out, known, nil
}

// scan checks one file.
type scan struct {
	path     string
	data     []byte
	rules    []pathRule
	ids      []age.Identity
	findings []Finding
	// known are the age recipients whose keys exist as far as is known
	// here: those .sops.yaml lists (placeholders aside) and the caller's;
	// nil when there is neither a .sops.yaml nor a key to tell.
	known []string

	encrypted bool
	verified  bool
}

func (s *scan) add(line int, rule Rule, format string, args ...any) {
	s.findings = append(s.findings, Finding{Path: s.path, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (s *scan) run() {
	lines := strings.Split(string(s.data), "\n")
	allowed := func(line int) bool {
		return line >= 1 && line <= len(lines) && strings.Contains(lines[line-1], AllowMarker)
	}
	s.structured()
	s.patterns(lines)
	type spot struct {
		line int
		rule Rule
	}
	seen := map[spot]bool{}
	kept := s.findings[:0]
	for _, f := range s.findings {
		// One finding per line and rule: the first, most specific, shape.
		if !allowed(f.Line) && !seen[spot{f.Line, f.Rule}] {
			seen[spot{f.Line, f.Rule}] = true
			kept = append(kept, f)
		}
	}
	s.findings = kept
}

// mustEncrypt reports the reason the file must be encrypted, or "".
func (s *scan) mustEncrypt() string {
	for _, r := range s.rules {
		if r.regex.MatchString(s.path) {
			return fmt.Sprintf("the %s creation rule path_regex %s matches it", ConfigFile, r.text)
		}
	}
	if strings.Contains(path.Base(s.path), ".enc.") {
		return "its name says it is encrypted (.enc.)"
	}
	return ""
}

// structured checks YAML and JSON files: SOPS files, files that must be
// SOPS files, and Kubernetes Secret manifests.
func (s *scan) structured() {
	if sopsFlat.Match(s.data) {
		s.encrypted = true // a SOPS dotenv or INI file: its MAC needs the key
		s.checkReaders(flatRecipients(s.data))
		return
	}
	if d := incomplete(s.path, s.data); d != nil {
		s.encrypted = true
		s.add(d.Line, RuleTruncated, "%s; restore the last good version from git (git checkout -- %s, or an earlier one: git log -- %s)", d.What, s.path, s.path)
		return
	}
	ext := strings.ToLower(path.Ext(s.path))
	isDoc := ext == ".yaml" || ext == ".yml" || ext == ".json"
	docs := parseDocs(s.data)
	var meta *yaml.Node
	for _, d := range docs {
		if m := mapValue(d, "sops"); m != nil && mapValue(m, "mac") != nil {
			meta = m
		}
	}
	if meta != nil {
		s.encrypted = true
		s.checkEncrypted(docs, meta)
		return
	}
	if why := s.mustEncrypt(); why != "" {
		s.add(1, RuleUnencrypted, "not encrypted, but %s; encrypt it", why)
	}
	if !isDoc {
		return
	}
	for _, d := range docs {
		s.checkSecretManifest(d)
	}
}

// sopsFlat matches the MAC of a SOPS dotenv or INI file.
var sopsFlat = regexp.MustCompile(`(?m)^(sops_mac=|mac\s*=\s*)ENC\[AES256_GCM,`)

// parseDocs parses every YAML document (JSON is YAML); a file that does
// not parse yields what parsed before the error.
func parseDocs(data []byte) []*yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return out
		}
		if len(n.Content) == 1 && n.Content[0].Kind == yaml.MappingNode {
			out = append(out, n.Content[0])
		}
	}
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// checkSecretManifest flags a Kubernetes Secret with plaintext values.
func (s *scan) checkSecretManifest(doc *yaml.Node) {
	kind := mapValue(doc, "kind")
	if kind == nil || kind.Value != "Secret" || mapValue(doc, "apiVersion") == nil {
		return
	}
	name := "a Secret"
	if md := mapValue(doc, "metadata"); md != nil {
		if n := mapValue(md, "name"); n != nil {
			name = "Secret " + n.Value
		}
	}
	for _, field := range []string{"data", "stringData"} {
		m := mapValue(doc, field)
		if m == nil || m.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			v := m.Content[i+1]
			if v.Kind != yaml.ScalarNode || v.Value == "" || isPlaceholder(v.Value) {
				continue
			}
			s.add(v.Line, RuleSecretManifest, "%s has plaintext %s.%s; keep Secret manifests as kubernetes/**/*.enc.yaml, encrypted",
				name, field, m.Content[i].Value)
		}
	}
}

// isPlaceholder reports a templated value (Helm, envsubst, Flux
// substitution) rather than a literal.
func isPlaceholder(v string) bool {
	return strings.Contains(v, "{{") || strings.Contains(v, "${") || strings.HasPrefix(v, "ENC[")
}

// checkEncrypted verifies a SOPS file: metadata, ciphertext wherever its
// rules demand it, and, when a key opens it, the MAC.
func (s *scan) checkEncrypted(docs []*yaml.Node, meta *yaml.Node) {
	mac := mapValue(meta, "mac")
	if !encValue.MatchString(mac.Value) {
		s.add(mac.Line, RuleBrokenEncryption, "sops.mac is not a SOPS ciphertext: the file was damaged; restore it from git (git checkout -- %s)", s.path)
	}
	if mapValue(meta, "lastmodified") == nil {
		s.add(meta.Line, RuleBrokenEncryption, "sops.lastmodified is missing: the MAC cannot be checked; restore the file from git")
	}
	for _, d := range docs {
		leaves, ok := plaintextLeaves(d, meta)
		if !ok {
			s.add(meta.Line, RuleBrokenEncryption, "sops metadata has an invalid encrypted/unencrypted regex; restore the file from git")
			return
		}
		for _, l := range leaves {
			s.add(l.line, RuleBrokenEncryption, "%s is plaintext in an encrypted file; never edit SOPS files by hand: restore it from git (git checkout -- %s) and change its values only through sops",
				l.key(), s.path)
		}
	}
	s.checkReaders(metaRecipients(meta))
	if len(s.ids) == 0 || len(s.findings) > 0 {
		return
	}
	st, err := storeFor(s.path)
	if err != nil {
		return
	}
	tree, err := st.LoadEncryptedFile(s.data)
	if err != nil {
		s.add(meta.Line, RuleBrokenEncryption, "sops cannot read the file (%v); restore it from git", err)
		return
	}
	key, err := dataKey(s.path, tree, s.ids)
	if err != nil {
		return
	}
	s.verified = true
	var damage *DamageError
	switch err := verifiedDecrypt(s.path, s.data, &tree, key); {
	case errors.As(err, &damage):
		s.add(damage.Line, RuleBrokenEncryption, "%s: it was changed without sops; restore it from git (git checkout -- %s) and change its values only through sops", damage.What, s.path)
	case err != nil:
		s.add(mapValue(meta, "mac").Line, RuleMACMismatch, "the content does not match the MAC: it was changed without sops; restore it from git (git checkout -- %s) and change its values only through sops", s.path)
	}
}

// fileRecipients are the recipients in a SOPS file's metadata.
type fileRecipients struct {
	// age lists the age recipients, and lines their lines.
	age   []string
	lines []int
	// others is true when the file has keys of other kinds too (PGP,
	// cloud KMS, Vault), which this check cannot judge.
	others bool
}

// otherKeys are the metadata keys of the master keys that are not age.
var otherKeys = regexp.MustCompile(`^(pgp|kms|gcp_kms|azure_kv|hc_vault|hckms)$`)

// metaRecipients reads the recipients of a YAML or JSON sops metadata.
func metaRecipients(meta *yaml.Node) fileRecipients {
	var r fileRecipients
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				switch {
				case k == "recipient" && v.Kind == yaml.ScalarNode && ageKey.MatchString(v.Value):
					r.age, r.lines = append(r.age, v.Value), append(r.lines, v.Line)
				case otherKeys.MatchString(k) && len(v.Content) > 0:
					r.others = true
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(meta)
	return r
}

var (
	flatAge   = regexp.MustCompile(`(?m)age__list_\d+__map_recipient\s*=\s*(age1[02-9ac-hj-np-z]{58})`)
	flatOther = regexp.MustCompile(`(?m)(^|_)(pgp|kms|gcp_kms|azure_kv|hc_vault|hckms)__list_\d+__map_`)
)

// flatRecipients reads the recipients of a SOPS dotenv or INI file.
func flatRecipients(data []byte) fileRecipients {
	r := fileRecipients{others: flatOther.Match(data)}
	for _, m := range flatAge.FindAllSubmatchIndex(data, -1) {
		r.age = append(r.age, string(data[m[2]:m[3]]))
		r.lines = append(r.lines, bytes.Count(data[:m[2]], []byte("\n"))+1)
	}
	return r
}

// checkReaders flags a SOPS file no known key can open: encrypted only to
// placeholders, or only to recipients that neither .sops.yaml nor the
// caller's key lists.
func (s *scan) checkReaders(r fileRecipients) {
	if len(r.age) == 0 || r.others {
		return
	}
	if !slices.ContainsFunc(r.age, func(k string) bool { return !IsPlaceholder(k) }) {
		s.add(r.lines[0], RuleUnreadable, "encrypted only to the placeholder recipient(s) %s, whose private keys do not exist: nobody can decrypt it and its content is lost; delete it and make the secret again once %s lists real keys (restore an earlier version from git if one was encrypted to a real key)",
			strings.Join(r.age, ", "), ConfigFile)
		return
	}
	if s.known != nil && !slices.ContainsFunc(r.age, func(k string) bool { return slices.Contains(s.known, k) }) {
		s.add(r.lines[0], RuleUnreadable, "encrypted only to %s, which neither %s nor your age key lists: no key known here opens it; whoever holds one of those keys must re-key it to the recipients %s lists, else it is lost and the secret must be made again",
			strings.Join(r.age, ", "), ConfigFile, ConfigFile)
	}
}

// encValue matches a SOPS ciphertext value.
var encValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:(str|int|float|bool|bytes|comment)\]$`)

// selector decides, as sops does, which values of a file are encrypted.
type selector struct {
	unencSuffix, encSuffix string
	unencRegex, encRegex   *regexp.Regexp
	comments               bool
}

func newSelector(meta *yaml.Node) (selector, bool) {
	str := func(k string) string {
		if v := mapValue(meta, k); v != nil {
			return v.Value
		}
		return ""
	}
	sel := selector{unencSuffix: str("unencrypted_suffix"), encSuffix: str("encrypted_suffix"),
		comments: str("unencrypted_comment_regex") != "" || str("encrypted_comment_regex") != ""}
	for _, r := range []struct {
		key string
		dst **regexp.Regexp
	}{{"unencrypted_regex", &sel.unencRegex}, {"encrypted_regex", &sel.encRegex}} {
		if v := str(r.key); v != "" {
			re, err := regexp.Compile(v)
			if err != nil {
				return sel, false
			}
			*r.dst = re
		}
	}
	return sel, true
}

// encrypted mirrors sops' shouldBeEncrypted for a key path.
func (sel selector) encrypted(keys []string) bool {
	enc := true
	if sel.unencSuffix != "" && slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, sel.unencSuffix) }) {
		enc = false
	}
	if sel.encSuffix != "" {
		enc = slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, sel.encSuffix) })
	}
	if sel.unencRegex != nil && slices.ContainsFunc(keys, sel.unencRegex.MatchString) {
		enc = false
	}
	if sel.encRegex != nil {
		enc = slices.ContainsFunc(keys, sel.encRegex.MatchString)
	}
	return enc
}

// WriteSummary prints the findings, one per line, then what was checked:
// files read, encrypted files and whose MAC could not be verified, and
// allowlist entries that match nothing.
func (r *Report) WriteSummary(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String() + "\n")
	}
	fmt.Fprintf(&b, "checked %d files: %d encrypted (%d MACs verified), %d allowlisted, %d skipped (binary or over 8 MiB); %d finding(s)\n",
		r.Scanned, len(r.Encrypted), len(r.Encrypted)-len(r.Unverified), len(r.Allowed), len(r.Skipped), len(r.Findings))
	if len(r.Unverified) > 0 {
		fmt.Fprintf(&b, "MAC not verified (no age key here opens them; checked for plaintext values only): %s\n", strings.Join(r.Unverified, ", "))
	}
	if len(r.StaleAllow) > 0 {
		fmt.Fprintf(&b, "%s entries that match no file (remove them): %s\n", AllowFile, strings.Join(r.StaleAllow, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
