// Package talosnode owns talking to the cluster's Talos nodes through the
// Talos API: applying the generated configs (insecurely to a fresh node in
// maintenance mode, authenticated with the talosconfig afterwards),
// bootstrapping etcd once, fetching the kubeconfig, checking health, and
// collecting a support bundle. Nodes and addresses come from the inventory,
// configs and the talosconfig from lib/talosgen's output directory.
package talosnode
