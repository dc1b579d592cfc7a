// Package talosupgrade upgrades the cluster's Talos nodes to the
// inventory's Talos version and Image Factory schematic, as the issue's
// day-2 runbook does it: it plans from each node's own answer (its Version
// and its "schematic" extension) and the host's VM configs, never from a
// marker file, and does nothing when every node already runs the target.
//
// A run keeps the template the nodes ran (a full clone of
// talos.template_id at talos.template_id + 1), imports the new template
// at talos.template_id (lib/images.ImportTalos with Replace), regenerates
// the node configs (the new installer image), takes an etcd snapshot, then
// upgrades node by node, workers before control planes, one at a time.
// After each node it waits until the node runs the target, its services
// are healthy, every control plane's etcd has all members and, when the
// Kubernetes API answered and the node was Ready before, its Kubernetes
// node is Ready again. It stops at the first node that does not come back
// (a *NodeNotBackError naming it, what it saw and the nodes left
// untouched). A new plan resumes: the nodes that run the target are
// skipped. Once every node says it runs the target, the previous template
// is deleted.
//
// The Plan a dry run prints (WriteText) is the object Execute runs.
package talosupgrade
