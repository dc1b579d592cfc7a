// Package clustersim is a test harness for the whole primary path
// (lib/cluster.Up, cluster:up): a simulated Proxmox VE host shaped from
// the inventory (lib/proxmox/pvesim), the Image Factory
// (lib/talosfactory/factorysim), and one simulated Talos node per
// inventory node (lib/talosnode/nodesim), coupled the way the real pieces
// are: a Talos node answers, in maintenance mode at first, only while a VM
// on the simulated host runs with its guest booted and the cloud-init
// image it booted with gives it the node's address (pvesim's Guest hook,
// read as the host holds it); a VM stopped takes its node down, a VM
// destroyed also wipes it (a recreated VM boots fresh). The node VMs are
// made by the real Terraform and bpg provider from the tool cache
// (internal/tfaccept), through a root module in testdata that clones the
// template once per talos.nodes entry.
//
// WithKube gives the cluster a real Kubernetes API server (internal/kubetest)
// whose CA is the secrets bundle's Kubernetes CA, as a Talos control plane's
// is: the nodes hand out a kubeconfig naming it (nodesim's
// WithKubernetesEndpoint, since nothing serves the config's endpoint here),
// whose client certificate it accepts as admin, and the controllers
// stand-in plays the cluster's controllers and kubelets, and the Cilium
// operator's start-up (the CiliumLoadBalancerIPPool and
// CiliumL2AnnouncementPolicy CRDs of the chart mirror's
// crds/cilium-l2-lb.yaml, applied when Deployment kube-system/cilium-operator
// would become ready). Harness.ChartMirror is the offline chart repository,
// shared/charts above the repository.
//
// Harness.Edit changes the inventory as a person scaling the cluster edits
// homelab.yaml: a node added gets a simulated Talos node, down until its VM
// boots; a node removed keeps its own, coupled to its VM until Terraform
// destroys it. WithNodeOptions passes options to the simulated nodes (a
// request hook, to look at the rest of the world when a call arrives). Until lib/addons, the harness's
// add-ons step installs nothing and checks that the kubeconfig reaches the
// API server.
package clustersim
