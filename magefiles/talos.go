//go:build mage

package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/internal/progress"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
)

// Talos builds the Talos template and cluster.
type Talos mg.Namespace

// Import builds the Talos template from the Image Factory through the Proxmox API; re-running changes nothing.
func (Talos) Import(ctx context.Context,
	// stream the image once through this machine to pin (or check) its sha256 in images.lock
	verify *bool,
	// replace what holds talos.template_id (another VM, or the template of another version)
	replace *bool,
	// print the planned API calls and change nothing
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	path := inventoryFile(file)
	inv, err := inventory.Load(path)
	if err != nil {
		return err
	}
	limits, err := netTimeouts()
	if err != nil {
		return err
	}
	res, err := images.ImportTalos(ctx, inv, filepath.Join(filepath.Dir(path), images.DefaultLockFile), images.TalosOptions{
		Verify: isSet(verify), Replace: isSet(replace), DryRun: isSet(dryrun),
		Events: progress.PrintEvents(progress.New(os.Stderr)), Logger: logger(), FactoryTimeouts: limits,
	})
	if err != nil {
		return err
	}
	return res.WriteSummary(os.Stdout)
}
