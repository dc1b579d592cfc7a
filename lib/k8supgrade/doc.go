// Package k8supgrade upgrades the cluster's Kubernetes to the inventory's
// kubernetes.version the way Talos's own upgrade
// (github.com/siderolabs/talos/pkg/cluster/kubernetes, what talosctl
// upgrade-k8s runs) does it, on lib/talosnode's connection and client-go.
// Talos's package does not resolve from the module proxy this repository
// builds from (see docs/operations/upgrades-kubernetes.md); the module it
// is built on, github.com/siderolabs/go-kubernetes (v0.2.28, as Talos
// v1.12.7 pins it), is used for the path, the pre-upgrade checks and the
// manifest sync, and Talos's procedure is followed from its source:
//
//   - the path is checked before anything changes: the target is supported
//     by every node's Talos version (machinery's compatibility matrix),
//     one minor version at a time (1.34 -> 1.35), no downgrade, and listed
//     by Talos's upgrade path (upgrade.NewPath, IsSupported);
//   - Talos's pre-upgrade checks (upgrade.NewChecks(...).Run) read the
//     nodes' StaticPod and KubeletSpec resources and the API server: a
//     flag, feature gate, admission plugin or API version the target
//     removed and still in use refuses the upgrade with a *CheckError
//     listing each finding;
//   - the control planes' static pods, one component at a time
//     (kube-apiserver on each control plane, then kube-controller-manager,
//     then kube-scheduler), each applied to one node without a reboot and
//     waited for: its mirror pod in kube-system runs the new image and is
//     Ready;
//   - then the kubelet of every node, control planes first, waited for
//     until the Node reports the new kubeletVersion and is Ready;
//   - then the bootstrap manifests the first control plane renders (its
//     Manifest resources) are synced to the API server
//     (manifests.GetBootstrapManifests, Sync, WaitForRollout); the plan
//     lists what a dry run of the sync would change.
//
// Where Talos patches the image of one component into the node's running
// config, this package applies the config regenerated from the inventory
// (lib/talosgen), holding the components not upgraded yet at the image
// they have, so that the last step of a node applies the regenerated
// config as it is. kube-proxy, whose image Talos also updates, is not: the
// configs disable it (Cilium replaces it), and a config that enables it is
// refused.
//
// A step whose component does not come up stops the upgrade with a
// *ComponentError naming it; a re-run resumes there, as every step is
// worked out from what the nodes report. Errors name the node and
// component; a refused path is an *UnsupportedError or a *CheckError
// (ErrUnsupported); a failed manifest sync a *ManifestError.
package k8supgrade
