// Package preflight checks that a Proxmox VE host, its API token and the
// inventory fit together before anything is built, and changes nothing.
//
// PlanFor derives from the inventory what the planned operations need from
// the host: the node, the bridge, the storages and the content each must
// hold, every planned VM ID, the PCI mappings GPU passthrough uses, and the
// privileges each operation needs on each ACL path. Run checks that plan
// through a lib/proxmox client, step by step (PVE version and
// authentication, the node, the token's privileges, the storages, the
// bridge, the planned VM IDs, the PCI mappings), telling each step as it
// starts and ends (WithProgress), and returns a Report: every check with
// what was found and, for each that did not pass, what to change, naming
// the inventory field or the Proxmox screen.
//
// The privileges come from one table, Privileges: each privilege a planned
// call needs (preflight's own reads and every call of talos:import), on the
// ACL path PVE checks it on, with what PVE accepts instead and why. The
// check fails naming the privilege, the path and how to grant it;
// MinimalRole and Plan.GrantPaths are the documented minimal role and
// where it is granted, generated into docs/deployment/planning.md from the
// same table.
//
// A planned VM ID held by a VM that carries inventory.ManagedTag is ours
// and passes; one held by any other VM fails.
//
// The package owns the inventory-aware half of preflight; lib/proxmox
// stays a Proxmox client that knows no inventory (it evaluates privileges
// on paths, Permissions.Missing, and says what to do about a failed
// connection, Client.ConnectionFix).
package preflight
