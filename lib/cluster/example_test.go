package cluster_test

import (
	"context"
	"fmt"

	"github.com/wdiazux/infra/lib/cluster"
	"github.com/wdiazux/infra/lib/inventory"
)

// Up refuses to start without what it works through; the steps it runs,
// in order, are cluster.Steps().
func ExampleUp() {
	vms := cluster.StageFunc(func(context.Context) (bool, string, error) { return false, "no changes", nil })
	_, err := cluster.Up(context.Background(), &inventory.Inventory{}, ".", cluster.Deps{NodeVMs: vms})
	fmt.Println(err)
	fmt.Println(cluster.Steps())
	// Output:
	// cluster.Up: Deps.Proxmox, Deps.Factory, Deps.Lock, Deps.Addons not set
	// [preflight talos template remove nodes node VMs node configs apply configs bootstrap kubeconfig health add-ons]
}
