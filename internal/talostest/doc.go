// Package talostest is the set-up the Talos packages' tests share: a
// cluster generated from an inventory file as talos:genconfig generates it
// (a fresh secrets bundle, the node configs with the repository's
// talos/patches, the talosconfig, all in a temporary folder), one
// simulated Talos node per inventory node (lib/talosnode/nodesim) and a
// talosnode.Cluster pointed at them; on demand the configs applied and
// etcd bootstrapped (Applied, Bootstrapped). Start is its second half
// alone, for configs a test generated itself (talosgen.SyncConfigs in a
// Repository).
//
// Repository is the other half some tests need: a temporary repository
// folder holding the repository's .sops.yaml (its recipients replaced by a
// fresh age key), its talos/patches and a secrets bundle encrypted to the
// key, as the Talos targets read them.
//
// It is for tests only: every failure fails the test (testify's require)
// and everything it starts stops when the test ends.
package talostest
