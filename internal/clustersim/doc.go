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
package clustersim
