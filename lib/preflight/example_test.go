package preflight_test

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// Check a fresh host, here the simulator's, against the inventory's plan:
// import content is off by default, and the GPU's PCI mapping is not made
// yet. Against a real host, build the client with proxmox.NewFromEnv().
func Example() {
	inv, err := inventory.Load(filepath.Join("..", "..", "homelab.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	sim, err := pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, false)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	id, secret := sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint()})
	if err != nil {
		fmt.Println(err)
		return
	}

	report := preflight.Run(context.Background(), client, preflight.PlanFor(inv))
	fmt.Println("ready:", report.OK())
	for _, c := range report.Failed() {
		fmt.Printf("%s: %s\n  fix: %s\n", c.Name, c.Detail, c.Fix)
	}
	// Output:
	// ready: false
	// storage local holds import: content is backup,iso,vztmpl; import is missing (it is off by default on PVE)
	//   fix: Datacenter → Storage → local → Edit → Content: add Import
	// PCI mapping rtx4000: does not exist (GPU passthrough is enabled)
	//   fix: Datacenter → Resource Mappings → PCI Devices → Add: name rtx4000, node pve, device 07:00.0, 07:00.1 with all functions
}
