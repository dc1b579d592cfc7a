package talostest

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"filippo.io/age"
	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
)

// recipient is an age recipient as .sops.yaml lists it.
var recipient = regexp.MustCompile(`age1[0-9a-z]{58}`)

// Repository writes into the folder root what the Talos targets read from
// a repository besides its inventory, with a fresh age key: the .sops.yaml
// of the repository at repo with every age recipient replaced by the
// key's, repo's talos/patches, and a new secrets bundle of inv encrypted
// to the key at talosgen.DefaultBundleFile. It returns the key and the
// bundle.
func Repository(t testing.TB, repo, root string, inv *inventory.Inventory) (*age.X25519Identity, *tsecrets.Bundle) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	sops, err := os.ReadFile(filepath.Join(repo, secrets.ConfigFile))
	require.NoError(t, err)
	sops = recipient.ReplaceAll(sops, []byte(id.Recipient().String()))
	require.NoError(t, os.WriteFile(filepath.Join(root, secrets.ConfigFile), sops, 0o644))
	require.NoError(t, os.CopyFS(filepath.Join(root, talosgen.DefaultPatchDir), os.DirFS(filepath.Join(repo, talosgen.DefaultPatchDir))))
	bundle, err := talosgen.NewBundle(inv)
	require.NoError(t, err)
	require.NoError(t, talosgen.SaveBundle(filepath.Join(root, talosgen.DefaultBundleFile), bundle, secrets.WithIdentities(id)))
	return id, bundle
}
