package secrets_test

import (
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/secrets"
)

// TestRuleRecipients: the recipients of the rule matching a path, with
// their anchors, for a file written outside sops; placeholders, a path no
// rule matches and a rule without age recipients are refused.
func TestRuleRecipients(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	key := id.Recipient().String()
	tests := []struct {
		name    string
		conf    string
		path    string
		want    []secrets.ConfigRecipient
		wantErr error
		msg     string
	}{
		{name: "anchored recipient", path: "backups/etcd/x.snapshot.age",
			conf: "keys:\n  - &admin " + key + "\ncreation_rules:\n  - path_regex: (^|/)backups/etcd/[^/]+\\.snapshot\\.age$\n    key_groups:\n      - age:\n          - *admin\n",
			want: []secrets.ConfigRecipient{{Key: key, Anchor: "admin", Line: 2}}},
		{name: "placeholder", path: "backups/etcd/x.snapshot.age",
			conf:    "keys:\n  - &admin " + secrets.PlaceholderAdmin + "\ncreation_rules:\n  - path_regex: (^|/)backups/etcd/[^/]+\\.snapshot\\.age$\n    key_groups:\n      - age:\n          - *admin\n",
			wantErr: secrets.ErrPlaceholder, msg: "the placeholder recipient(s) &admin (" + secrets.PlaceholderAdmin + ", line 2)"},
		{name: "no rule", path: "elsewhere/x.age",
			conf:    "creation_rules:\n  - path_regex: (^|/)backups/etcd/[^/]+\\.snapshot\\.age$\n    age: " + key + "\n",
			wantErr: secrets.ErrNoRule, msg: "matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			conf := filepath.Join(root, secrets.ConfigFile)
			require.NoError(t, os.WriteFile(conf, []byte(tt.conf), 0o600))
			named, recipients, gotConf, err := secrets.RuleRecipients(filepath.Join(root, tt.path))
			require.Equal(t, conf, gotConf)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorContains(t, err, tt.msg)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, named)
			require.Len(t, recipients, 1)
			require.Equal(t, key, recipients[0].(*age.X25519Recipient).String())
		})
	}
}

// The repository's .sops.yaml has a rule for the etcd snapshots: its
// recipients are the shipped placeholder, refused until replaced.
func TestRuleRecipientsOfTheRepository(t *testing.T) {
	_, _, _, err := secrets.RuleRecipients(filepath.Join("..", "..", "backups", "etcd", "etcd-homelab-20261127T090000Z.snapshot.age"))
	require.ErrorIs(t, err, secrets.ErrPlaceholder)
}
