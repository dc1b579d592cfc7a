package talosupgrade_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosupgrade"
)

// exampleNodes answer as nodes still on Talos v1.12.6 would.
type exampleNodes struct{ schematic string }

func (e exampleNodes) Running(_ context.Context, node string) (talosnode.Running, error) {
	return talosnode.Running{Node: node, Version: "v1.12.6", Schematic: e.schematic}, nil
}

func (exampleNodes) Upgrade(context.Context, string, string) error { return nil }

func (exampleNodes) CheckNode(context.Context, string) (talosnode.NodeHealth, error) {
	return talosnode.NodeHealth{}, nil
}

// emptyHost has no VM at all yet.
type emptyHost struct{ talosupgrade.PVE }

func (emptyHost) VMConfig(_ context.Context, node string, vmid int) (proxmox.VMConfig, error) {
	return proxmox.VMConfig{}, fmt.Errorf("%w: VM %d on node %s", proxmox.ErrVMNotFound, vmid, node)
}

// Plan the homelab's upgrade to the inventory's Talos version and print
// the plan, as talos:upgrade -dryrun does; Execute would run this plan.
func Example() {
	inv, err := inventory.Load(filepath.Join("..", "..", "homelab.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	schematic, _ := talosfactory.SchematicFor(inv).ID()
	factory, _ := talosfactory.New("https://factory.example")
	p, err := talosupgrade.New(context.Background(), inv, talosupgrade.Deps{
		Nodes: exampleNodes{schematic}, Proxmox: emptyHost{}, Factory: factory, Lock: &images.LockFile{},
		Snapshot: talosupgrade.SnapshotFunc(func(context.Context) (string, error) { return "etcd.snapshot.age", nil }),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = p.WriteText(os.Stdout)
	// Output:
	// Talos upgrade to v1.12.7 (schematic dc4d09323d57)
	// installer image: factory.example/installer/dc4d09323d57bcab7e71fbe3660e252f829de29b8548cf8b18355c4d1f48f266:v1.12.7
	//
	// Template (VM 9000, the previous one kept at VM 9001):
	//   1. import the new template: Talos v1.12.7 (schematic dc4d09323d57) at VM 9000 (talos.template_id)
	//
	// Configs: regenerate the node configs (machine.install.image = the installer image)
	// etcd: take an etcd snapshot before the first node
	//
	// Nodes (workers first, then control planes, one at a time; each waited for up to 10m0s):
	//   1.  talos-cp-01  controlplane  v1.12.6 (schematic dc4d09323d57) → v1.12.7 (schematic dc4d09323d57)
	// Kubernetes: not checked: no kubeconfig
}
