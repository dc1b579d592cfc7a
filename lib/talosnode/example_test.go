package talosnode_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// Bring up the homelab's node, simulated: apply its config (it is fresh,
// so in maintenance mode), bootstrap etcd, and check health.
func Example() {
	ctx := context.Background()
	inv, _ := inventory.Load(filepath.Join("..", "..", "homelab.yaml"))
	bundle, _ := talosgen.NewBundle(inv)
	patches, _ := talosgen.LoadPatches(filepath.Join("..", "..", "talos", "patches"), inv)
	res, _ := talosgen.BuildConfigs(talosgen.Sources{Inventory: inv, Bundle: bundle, Patches: patches})
	dir, _ := os.MkdirTemp("", "talosnode-example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "talos-cp-01.yaml"), res.Nodes[0].Config, 0o600)
	tc, _ := talosgen.Talosconfig(inv, bundle)
	_ = os.WriteFile(filepath.Join(dir, talosgen.TalosconfigFile), tc, 0o600)

	sim, err := nodesim.New(bundle, []string{"talos-cp-01"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	cluster := talosnode.New(inv, dir, talosnode.WithEndpoints(func(n inventory.TalosNode) string { return sim.Endpoint(n.Name) }))

	applied, err := cluster.Apply(ctx, talosnode.ApplyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: maintenance mode %v, %s\n", applied[0].Node, applied[0].Maintenance, applied[0].Mode)
	boot, err := cluster.Bootstrap(ctx, "", false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("bootstrapped etcd on", boot.Node)
	_, err = cluster.Bootstrap(ctx, "", false)
	fmt.Println("again:", err != nil)
	health, err := cluster.Health(ctx, talosnode.HealthOptions{})
	fmt.Println("healthy:", err == nil && health.Healthy())
	// Output:
	// talos-cp-01: maintenance mode true, reboot
	// bootstrapped etcd on talos-cp-01
	// again: true
	// healthy: true
}
