package secrets

import (
	"fmt"
	"slices"

	"filippo.io/age"
)

// RuleRecipients returns the age recipients the creation rule of
// .sops.yaml (the nearest above path, or WithConfig's) gives for path,
// with their anchors, and the .sops.yaml it read, for files this package
// does not write itself (an age stream, such as an etcd snapshot). Path
// need not exist. It refuses a placeholder recipient (*PlaceholderError)
// and a rule without age recipients.
func RuleRecipients(path string, opts ...Option) ([]ConfigRecipient, []age.Recipient, string, error) {
	o := newOptions(opts)
	rule, conf, err := o.rule(path)
	if err != nil {
		return nil, nil, conf, err
	}
	keys := groupRecipients(rule.KeyGroups)
	if len(keys) == 0 {
		return nil, nil, conf, fmt.Errorf("%s: the creation rule in %s that matches it has no age recipient", path, conf)
	}
	if err := refusePlaceholders(path, conf, true, keys); err != nil {
		return nil, nil, conf, err
	}
	named, _ := readConfigRecipients(conf)
	var out []ConfigRecipient
	var parsed []age.Recipient
	for _, k := range keys {
		r, err := age.ParseX25519Recipient(k)
		if err != nil {
			return nil, nil, conf, fmt.Errorf("%s: recipient %s: %w", conf, k, err)
		}
		parsed = append(parsed, r)
		c := ConfigRecipient{Key: k}
		if i := slices.IndexFunc(named, func(n ConfigRecipient) bool { return n.Key == k }); i >= 0 {
			c = named[i]
		}
		out = append(out, c)
	}
	return out, parsed, conf, nil
}
