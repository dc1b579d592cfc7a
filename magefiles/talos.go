//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/internal/progress"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/talosfactory"
)

// Talos builds the Talos template and cluster.
type Talos mg.Namespace

// Import builds the Talos template from the Image Factory through the Proxmox API; re-running changes nothing.
//
// Builds the Talos template (`talos.template_id`) from the Image Factory
// through the Proxmox API: schematic from the inventory, PVE downloads the
// image, template VM as Talos needs it. Idempotent; decides from the VM's
// config, never from the lagging VM list; removes a half-made VM after any
// failure; repairs what a killed run left, a half-converted template included.
// See the Talos template (docs/deployment/talos-template.md).
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
	path, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	pveClient, factory, err := talosImportClients(inv)
	if err != nil {
		return err
	}
	lock, err := images.LoadLockFile(filepath.Join(filepath.Dir(path), images.DefaultLockFile))
	if err != nil {
		return err
	}
	report, err := images.ImportTalos(ctx, inv, pveClient, factory, lock, images.TalosImportOptions{
		Verify: isSet(verify), Replace: isSet(replace), DryRun: isSet(dryrun),
		Events: progress.PrintEvents(progress.New(os.Stderr)), Logger: logger(),
	})
	if err != nil {
		return proxmoxAdvice(err)
	}
	if err := report.WriteSummary(os.Stdout); err != nil {
		return err
	}
	if report.Checksum == "" {
		fmt.Println("\nThe image's sha256 is not pinned yet: go run mage.go talos:import -verify pins it in images.lock.")
	}
	return nil
}

// talosImportClients are the clients talos:import talks to: the Proxmox VE
// API of the environment, and the inventory's Image Factory, under the
// network limits of $INFRA_NET_TIMEOUTS.
func talosImportClients(inv *inventory.Inventory) (*proxmox.Client, *talosfactory.Client, error) {
	limits, err := netTimeouts()
	if err != nil {
		return nil, nil, err
	}
	pveClient, err := proxmox.NewFromEnv(proxmox.WithLogger(logger()))
	if err != nil {
		return nil, nil, err
	}
	factory, err := talosfactory.New(inv.Talos.FactoryURL, talosfactory.WithTimeouts(limits), talosfactory.WithLogger(logger()))
	if err != nil {
		return nil, nil, err
	}
	return pveClient, factory, nil
}
