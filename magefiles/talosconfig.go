//go:build mage

package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
)

// Genconfig builds each node's Talos machine config and the talosconfig into talos/generated (0600), with a diff against what is there.
//
// Builds each Talos node's machine config and the talosconfig into
// `talos/generated/` (gitignored; files 0600, directory 0700) from the
// inventory, the patches under `talos/patches/` and the cluster's secrets
// bundle, which the first run makes and keeps SOPS-encrypted in
// `secrets/talos-secrets.enc.yaml`. Every config is strictly validated for
// metal first; changes are shown as a diff with secrets redacted. Re-running
// with nothing new changes nothing. See the Talos cluster
// (docs/deployment/talos-cluster.md).
func (Talos) Genconfig(ctx context.Context,
	// show what would change and write nothing
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	path, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	res, err := talosgen.SyncConfigs(ctx, inv, talosgen.SyncOptions{
		Root: filepath.Dir(path), DryRun: isSet(dryrun), Logger: logger(),
		Secrets: []secrets.Option{secrets.WithLogger(logger())},
	})
	if err != nil {
		return secretsAdvice(err, "", false)
	}
	return res.WriteSummary(os.Stdout)
}
