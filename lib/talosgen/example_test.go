package talosgen_test

import (
	"fmt"
	"path/filepath"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
)

// Build the homelab's machine configs from a secrets bundle held in
// memory, and see what went into the control plane's config.
func ExampleBuildConfigs() {
	inv, err := inventory.Load(filepath.Join("..", "..", "homelab.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	bundle, err := talosgen.NewBundle(inv)
	if err != nil {
		fmt.Println(err)
		return
	}
	patches, err := talosgen.LoadPatches(filepath.Join("..", "..", "talos", "patches"), inv)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := talosgen.BuildConfigs(talosgen.Sources{Inventory: inv, Bundle: bundle, Patches: patches})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("endpoint:", res.Endpoint)
	for _, n := range res.Nodes {
		fmt.Println(n.Node.Name, n.Node.Role)
		for _, step := range n.Applied {
			rel, err := filepath.Rel(filepath.Join("..", ".."), step)
			if err != nil || step == "inventory" {
				rel = step
			}
			fmt.Println("  ", filepath.ToSlash(rel))
		}
	}
	// Output:
	// endpoint: https://10.10.2.10:6443
	// talos-cp-01 controlplane
	//    inventory
	//    talos/patches/global/10-cni-none.yaml
	//    talos/patches/global/20-kubeprism.yaml
	//    talos/patches/controlplane/10-scheduling.yaml
	//    talos/patches/controlplane/20-metrics.yaml
	//    talos/patches/gpu/10-nvidia.yaml
	//    talos/patches/longhorn/10-kubelet-mount.yaml
}
