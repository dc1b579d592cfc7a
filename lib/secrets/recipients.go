package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
	sopsage "github.com/getsops/sops/v3/age"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// The placeholder recipients the repository's .sops.yaml ships with, on
// its &admin and &cluster lines. Their private keys do not exist: anything
// encrypted to them can never be decrypted, so every operation that
// encrypts refuses them (*PlaceholderError) and Check reports files
// encrypted only to them.
const (
	PlaceholderAdmin   = "age1cheusk0550wt8j097pxvn677x568te4lp9ha84sz47hyv605jalqkeev7t"
	PlaceholderCluster = "age1lmu5ujvgl0h243gxde86lmcs0e3h2uphmdzcecwwy3x9tweuzd9sxp99me"
)

// IsPlaceholder reports whether an age recipient is one of the placeholders
// the repository ships (PlaceholderAdmin, PlaceholderCluster).
func IsPlaceholder(recipient string) bool {
	return recipient == PlaceholderAdmin || recipient == PlaceholderCluster
}

// ErrPlaceholder means an operation would have encrypted to a placeholder
// recipient, whose private key does not exist.
var ErrPlaceholder = errors.New("placeholder recipient")

// ConfigRecipient is an age recipient as a .sops.yaml names it.
type ConfigRecipient struct {
	// Key is the public key, age1...
	Key string
	// Anchor is the YAML anchor that defines it (admin for &admin), "" when
	// the .sops.yaml gives it no anchor.
	Anchor string
	// Line is the 1-based line of its anchor in the .sops.yaml, 0 when it
	// has none.
	Line int
}

// String names the recipient as .sops.yaml does: "&admin (age1..., line 12)".
func (r ConfigRecipient) String() string {
	switch {
	case r.Anchor == "":
		return r.Key
	case r.Line == 0:
		return fmt.Sprintf("&%s (%s)", r.Anchor, r.Key)
	}
	return fmt.Sprintf("&%s (%s, line %d)", r.Anchor, r.Key, r.Line)
}

// PlaceholderError means the recipients of an encryption include a
// placeholder; nothing was written.
type PlaceholderError struct {
	// Path is the file that was to be encrypted.
	Path string
	// FromRule is true when the placeholders come from the creation rule
	// for Path, false when from the file's own metadata.
	FromRule bool
	// Config is the .sops.yaml for Path, "" when there is none.
	Config string
	// Placeholders are the placeholder recipients, with their anchors in
	// Config (or, when it does not name them, the anchors the repository's
	// .sops.yaml gives them: admin, cluster).
	Placeholders []ConfigRecipient
}

// Error names the placeholders, where they are, and what to do.
func (e *PlaceholderError) Error() string {
	names := make([]string, len(e.Placeholders))
	for i, p := range e.Placeholders {
		names[i] = p.String()
	}
	where := "it is encrypted to"
	if e.FromRule {
		where = "its creation rule in " + e.Config + " encrypts to"
	}
	return fmt.Sprintf("%s: %s the placeholder recipient(s) %s, whose private key does not exist: nothing encrypted to it could ever be decrypted, so nothing was written; replace it in %s with the public key of a key that exists",
		e.Path, where, strings.Join(names, ", "), ConfigFile)
}

// Is makes errors.Is(err, ErrPlaceholder) true.
func (e *PlaceholderError) Is(target error) bool { return target == ErrPlaceholder }

// Anchors lists the anchors of the placeholders, such as "admin", in order.
func (e *PlaceholderError) Anchors() []string {
	var out []string
	for _, p := range e.Placeholders {
		if p.Anchor != "" && !slices.Contains(out, p.Anchor) {
			out = append(out, p.Anchor)
		}
	}
	return out
}

// shippedAnchor is the anchor the repository's .sops.yaml gives a
// placeholder.
func shippedAnchor(recipient string) string {
	switch recipient {
	case PlaceholderAdmin:
		return "admin"
	case PlaceholderCluster:
		return "cluster"
	}
	return ""
}

// refusePlaceholders returns a *PlaceholderError when recipients include a
// placeholder; conf, when known, is the .sops.yaml for path, and fromRule
// says the recipients come from its rule rather than the file's metadata.
func refusePlaceholders(path, conf string, fromRule bool, recipients []string) error {
	var named []ConfigRecipient
	if conf != "" {
		named, _ = readConfigRecipients(conf)
	}
	var found []ConfigRecipient
	for _, r := range recipients {
		if !IsPlaceholder(r) || slices.ContainsFunc(found, func(f ConfigRecipient) bool { return f.Key == r }) {
			continue
		}
		p := ConfigRecipient{Key: r, Anchor: shippedAnchor(r)}
		if i := slices.IndexFunc(named, func(n ConfigRecipient) bool { return n.Key == r && n.Anchor != "" }); i >= 0 {
			p = named[i]
		}
		found = append(found, p)
	}
	if len(found) == 0 {
		return nil
	}
	return &PlaceholderError{Path: path, FromRule: fromRule, Config: conf, Placeholders: found}
}

// groupRecipients lists the age recipients of key groups.
func groupRecipients(groups []sops.KeyGroup) []string {
	var out []string
	for _, group := range groups {
		for _, k := range group {
			if mk, ok := k.(*sopsage.MasterKey); ok {
				out = append(out, mk.Recipient)
			}
		}
	}
	return out
}

// ageKey matches an age X25519 public key.
var ageKey = regexp.MustCompile(`age1[02-9ac-hj-np-z]{58}`)

// readConfigRecipients lists every age recipient a .sops.yaml holds, in
// order of appearance, once each, with the anchor that defines it.
func readConfigRecipients(conf string) ([]ConfigRecipient, error) {
	data, err := os.ReadFile(conf)
	if err != nil {
		return nil, err
	}
	return configRecipients(conf, data)
}

// configRecipients lists the age recipients of a .sops.yaml's content, as
// readConfigRecipients does.
func configRecipients(conf string, data []byte) ([]ConfigRecipient, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", conf, err)
	}
	var out []ConfigRecipient
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			for _, key := range ageKey.FindAllString(n.Value, -1) {
				i := slices.IndexFunc(out, func(r ConfigRecipient) bool { return r.Key == key })
				switch {
				case i < 0:
					out = append(out, ConfigRecipient{Key: key})
					i = len(out) - 1
				case out[i].Anchor != "":
					continue
				}
				if n.Anchor != "" && n.Value == key {
					out[i].Anchor, out[i].Line = n.Anchor, n.Line
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	return out, nil
}

// RecipientChange is what SetRecipient did, or would do, to a .sops.yaml.
type RecipientChange struct {
	// Config is the .sops.yaml.
	Config string
	// Anchor is the recipient's anchor (admin for &admin), and Line its line.
	Anchor string
	Line   int
	// Old is the recipient it held, New the one it holds now.
	Old, New string
}

// Changed reports whether the recipient changed.
func (c *RecipientChange) Changed() bool { return c.Old != c.New }

// ErrNoAnchor means a .sops.yaml defines no age recipient under the anchor
// asked for.
var ErrNoAnchor = errors.New("no such recipient anchor")

// SetRecipient puts recipient in the .sops.yaml at conf in place of the age
// recipient its anchor &anchor defines (in keys:), so that every rule that
// refers to *anchor encrypts to it. Every other byte of the file stays as it
// was: comments, anchors, aliases, layout. An empty recipient means the
// caller's own public key (WithIdentities, else the environment's or the
// default key file's), which must then be a single X25519 key. A
// placeholder is refused as the new recipient. Files already encrypted keep
// their recipients until they are re-keyed (UpdateAllKeys). With WithDryRun
// it checks everything and writes nothing.
func SetRecipient(conf, anchor, recipient string, opts ...Option) (*RecipientChange, error) {
	o := newOptions(opts)
	if recipient == "" {
		var err error
		if recipient, err = o.ownRecipient(); err != nil {
			return nil, err
		}
	}
	if _, err := age.ParseX25519Recipient(recipient); err != nil {
		return nil, fmt.Errorf("%q is not an age public key (age1 followed by 58 characters): %w", recipient, err)
	}
	if IsPlaceholder(recipient) {
		return nil, fmt.Errorf("%s is a placeholder recipient, whose private key does not exist; use the public key of a key you hold", recipient)
	}
	data, err := os.ReadFile(conf)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", conf, err)
	}
	node, err := findAnchor(conf, &root, anchor)
	if err != nil {
		return nil, err
	}
	change := &RecipientChange{Config: conf, Anchor: anchor, Line: node.Line, Old: node.Value, New: recipient}
	if !change.Changed() {
		return change, nil
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	line := lines[node.Line-1]
	at := bytes.Index(line[node.Column-1:], []byte(node.Value))
	if at < 0 {
		return nil, fmt.Errorf("%s:%d: cannot find the value of &%s on its line to replace it; edit the line by hand", conf, node.Line, anchor)
	}
	at += node.Column - 1
	lines[node.Line-1] = slices.Concat(line[:at], []byte(recipient), line[at+len(node.Value):])
	edited := bytes.Join(lines, nil)

	// The edit changed that value and nothing else.
	var check yaml.Node
	if err := yaml.Unmarshal(edited, &check); err != nil {
		return nil, fmt.Errorf("%s: the edited file does not parse (%w); nothing was written", conf, err)
	}
	if n, err := findAnchor(conf, &check, anchor); err != nil || n.Value != recipient {
		return nil, fmt.Errorf("%s:%d: replacing &%s did not take; nothing was written; edit the line by hand", conf, node.Line, anchor)
	}
	if o.dryRun {
		return change, nil
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(conf); err == nil {
		mode = fi.Mode().Perm()
	}
	return change, atomicfile.Write(conf, edited, mode)
}

// findAnchor returns the scalar a .sops.yaml defines under &anchor, which
// must be an age public key.
func findAnchor(conf string, root *yaml.Node, anchor string) (*yaml.Node, error) {
	var found *yaml.Node
	var anchors []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Anchor != "" && n.Kind == yaml.ScalarNode && ageKey.MatchString(n.Value) {
			anchors = append(anchors, n.Anchor)
			if n.Anchor == anchor {
				found = n
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	if found == nil {
		return nil, fmt.Errorf("%w: %s defines no age recipient &%s (its recipient anchors: %s)", ErrNoAnchor, conf, anchor, strings.Join(anchors, ", "))
	}
	if found.Value != strings.TrimSpace(ageKey.FindString(found.Value)) {
		return nil, fmt.Errorf("%s:%d: &%s holds more than one age public key; edit it by hand", conf, found.Line, anchor)
	}
	return found, nil
}

// ownRecipient returns the public key of the caller's single X25519 key.
func (o options) ownRecipient() (string, error) {
	ids, err := o.callerIdentities()
	if err != nil {
		return "", err
	}
	var keys []string
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			keys = append(keys, x.Recipient().String())
		}
	}
	if len(keys) != 1 {
		return "", fmt.Errorf("you hold %d age X25519 keys (%s): name the public key to use", len(keys), strings.Join(keys, ", "))
	}
	return keys[0], nil
}
