//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// Proxmox checks the Proxmox VE host and runs the simulator.
type Proxmox mg.Namespace

// Preflight checks the host, the token and the inventory fit together (PVE version, privileges, storages, bridge, VM IDs, GPU mapping).
//
// Checks that the Proxmox host, the API token and the inventory fit together:
// PVE version (9.x; 8.4 warns), authentication, the privileges every planned
// operation needs, the storages and their content types (`import` is off by
// default), the bridge, the planned VM IDs (free, or already ours), the GPU's
// PCI mapping. Prints each step as it starts (`checking TLS, API token and PVE
// version on pve:8006 …`; `-v` adds how each ended), then one table, then a
// fix per failure that names what was tried (the port of `PROXMOX_URL`, the
// pinned and presented fingerprints); exits 1 on any failure. A host that
// stops answering fails within the network time limits
// (docs/reference/environment.md#network-time-limits). Changes nothing.
func (Proxmox) Preflight(ctx context.Context,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	_, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	client, err := proxmox.NewFromEnv(proxmox.WithLogger(logger()))
	if err != nil {
		return err
	}
	report := preflight.Run(ctx, client, preflight.PlanFor(inv), preflight.WithProgress(printCheckProgress()))
	if err := report.WriteTable(os.Stdout); err != nil {
		return err
	}
	if !report.OK() {
		return fmt.Errorf("preflight: %d check(s) failed; fix them and run proxmox:preflight again", len(report.Failed()))
	}
	fmt.Println("\npreflight: the host is ready")
	return nil
}

// printCheckProgress prints each preflight step as it starts, so a slow host is never a silent wait; -v adds how each ended.
func printCheckProgress() func(preflight.Event) {
	var start time.Time
	return func(ev preflight.Event) {
		if !ev.Done {
			start = time.Now()
			fmt.Printf("checking %s on %s …\n", ev.Step, ev.Host)
			return
		}
		if mg.Verbose() {
			failed := 0
			for _, c := range ev.Checks {
				if c.Status == preflight.Fail {
					failed++
				}
			}
			fmt.Printf("  %d check(s), %d failed, in %s\n", len(ev.Checks), failed, time.Since(start).Round(time.Millisecond))
		}
	}
}

// Sim runs the Proxmox VE 9 simulator on loopback (default 127.0.0.1:8006) shaped like the inventory's host, until Ctrl-C.
//
// Runs the Proxmox VE 9 simulator on loopback (default `127.0.0.1:8006`)
// shaped like the inventory's host, until Ctrl-C, and prints the `export`
// lines that point the tools at it. `-prepared` starts from a host preflight
// accepts. See the simulator (docs/reference/simulator.md).
func (Proxmox) Sim(ctx context.Context,
	// loopback address to listen on (default 127.0.0.1:8006)
	addr *string,
	// start from a host already prepared as preflight asks (import content, GPU mapping)
	prepared *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	_, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	listen := "127.0.0.1:8006"
	if addr != nil {
		listen = *addr
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	return pvesim.Serve(ctx, os.Stdout, pvesim.WithListenAddr(listen), pvesim.WithLogger(logger()),
		pvesim.WithSetup(pvesim.SetupFor(inv, prepared != nil && *prepared)))
}
