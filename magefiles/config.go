//go:build mage

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/lib/inventory"
)

// Config reads and checks the homelab inventory (homelab.yaml).
type Config mg.Namespace

// Check validates the inventory and lists every problem (-file=PATH to check another file).
//
// Each problem comes with its line and field path; the first 50 are
// listed, then a count of the rest. Exits 1 when there is any.
func (Config) Check(
	// inventory file to check (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	path, inv, err := loadInventory(file)
	var invErr *inventory.Error
	if errors.As(err, &invErr) {
		return fmt.Errorf("%s has %d problem(s):\n%w", path, invErr.Total(), err)
	}
	if err != nil {
		return err
	}
	enabled := 0
	for _, vm := range inv.VMs {
		if vm.Enabled {
			enabled++
		}
	}
	fmt.Printf("%s is valid: %d addresses, %d VM IDs, %d Talos node(s), %d VMs (%d enabled)\n",
		path, len(inv.Addresses()), len(inv.VMIDs()), len(inv.Talos.Nodes), len(inv.VMs), enabled)
	return nil
}

// Show prints the inventory as tables, or as JSON with -json or JSON=1 (-file=PATH for another file).
//
// The tables: ranges, addresses sorted, Proxmox, VM IDs sorted, Talos, VMs,
// charts, user, tools.
func (Config) Show(
	// inventory file to show (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
	// print JSON with the YAML's keys instead of tables (also JSON=1)
	json *bool,
) error {
	_, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	if flagOrEnv(json, "JSON") {
		return inv.WriteJSON(os.Stdout)
	}
	return inv.WriteTable(os.Stdout)
}
