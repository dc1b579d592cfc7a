package addons_test

import (
	"fmt"

	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/inventory"
)

// Compute the add-ons' releases from homelab.yaml and the kubernetes/ tree
// next to it, in install order.
func ExampleReleases() {
	inv, err := inventory.Load("../../homelab.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	rels, err := addons.Releases(inv, "../..")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rels {
		kind := "manifests"
		if r.Chart != nil {
			kind = "chart " + r.Chart.Name + " " + r.Chart.Version
		}
		fmt.Printf("%s (%s) %s after %v\n", r.Name, r.Namespace, kind, r.DependsOn)
	}
	// Output:
	// cilium (kube-system) chart cilium 1.19.5 after []
	// cilium-config (kube-system) manifests after [cilium]
	// longhorn (longhorn-system) chart longhorn 1.10.1 after [cilium]
	// csi-driver-nfs (kube-system) chart csi-driver-nfs v4.12.1 after [cilium]
	// csi-driver-nfs-config (kube-system) manifests after [csi-driver-nfs]
	// nvidia-config (nvidia-device-plugin) manifests after [cilium]
	// nvidia-device-plugin (nvidia-device-plugin) chart nvidia-device-plugin 0.18.0 after [cilium nvidia-config]
	// kube-prometheus-stack (monitoring) chart kube-prometheus-stack 79.5.0 after [cilium longhorn]
	// loki (monitoring) chart loki 6.46.0 after [cilium longhorn]
	// alloy (monitoring) chart alloy 1.11.1 after [loki]
	// flux2 (flux-system) chart flux2 2.18.3 after [cilium]
	// flux2-config (flux-system) manifests after [flux2]
	// forgejo (forgejo) chart forgejo 15.0.2 after [cilium longhorn]
}
