//go:build mage

package main

import (
	"context"
	"os"

	"github.com/wdiazux/infra/internal/demo"
)

// Demo runs talos:import end to end against a simulated Proxmox VE 9 and a stand-in Image Factory, twice, with only Go.
func Demo(ctx context.Context) error {
	_, inv, err := loadInventory(nil)
	if err != nil {
		return err
	}
	return demo.Run(ctx, inv, os.Stdout)
}
