// Package talosnode owns talking to the cluster's Talos nodes through the
// Talos API: applying the generated configs (insecurely to a fresh node in
// maintenance mode, authenticated with the talosconfig afterwards),
// bootstrapping etcd once, fetching the kubeconfig, checking health,
// collecting a support bundle, etcd's snapshot and recovery (EtcdSnapshot
// streams it into a writer, EtcdRecover uploads one, BootstrapRecover
// bootstraps from it, EtcdState says whether etcd runs), and upgrading a
// node (Upgrade) and asking what it runs (Running: its version, and its
// Image Factory schematic from the "schematic" ExtensionStatus). Nodes and
// addresses come from the inventory,
// configs and the talosconfig from lib/talosgen's output directory.
//
// Every connection and call runs under lib/netx's time limits: the
// connection is set up (TCP, TLS, gRPC) within the dial and TLS-handshake
// limits before the first call, and each unary call within the overall
// limit (streams, such as the support bundle's logs, report progress
// instead). A node that stops answering is a *NodeError naming the node,
// its address and the phase.
//
// A file of the output directory that is not there yet is a
// *MissingFileError saying which file it is (a node's config, the
// talosconfig, the kubeconfig) and so what makes it; a node's config made
// for another node is a *ForeignConfigError. Callers add the command that
// makes the file.
package talosnode
