// Package k8supgrade upgrades the cluster's Kubernetes to the inventory's
// kubernetes.version the way Talos's own upgrade
// (github.com/siderolabs/talos/pkg/cluster/kubernetes, what talosctl
// upgrade-k8s runs) does it, on lib/talosnode's connection and client-go.
// Talos's package is not used: its module is not one this repository can
// depend on (see docs/operations/upgrades-kubernetes.md), so its procedure
// is followed from its source:
//
//   - the path is checked before anything changes: the target is supported
//     by every node's Talos version (machinery's compatibility matrix),
//     one minor version at a time (1.34 -> 1.35), no downgrade;
//   - the control planes' static pods, one component at a time
//     (kube-apiserver on each control plane, then kube-controller-manager,
//     then kube-scheduler), each applied to one node without a reboot and
//     waited for: its mirror pod in kube-system runs the new image and is
//     Ready;
//   - then the kubelet of every node, control planes first, waited for
//     until the Node reports the new kubeletVersion and is Ready.
//
// Where Talos patches the image of one component into the node's running
// config, this package applies the config regenerated from the inventory
// (lib/talosgen), holding the components not upgraded yet at the image
// they have, so that the last step of a node applies the regenerated
// config as it is. kube-proxy and the bootstrap manifests, which Talos
// also syncs, are not: the configs disable kube-proxy (Cilium replaces
// it), and a config that enables it is refused.
//
// A step whose component does not come up stops the upgrade with a
// *ComponentError naming it; a re-run resumes there, as every step is
// worked out from what the nodes report. Errors name the node and
// component; a refused path is an *UnsupportedError (ErrUnsupported).
package k8supgrade
