// Package etcdbackup takes and restores encrypted snapshots of the Talos
// cluster's etcd through the Talos API (lib/talosnode).
//
// A snapshot streams from a control plane whose etcd runs and is healthy
// straight through age encryption (filippo.io/age, streaming) to the
// recipients the repository's .sops.yaml gives RulePath, into a
// temporary file of the target directory (0600) that is synced and
// renamed into place; placeholder recipients are refused. The plaintext
// never reaches a disk: while it streams its size and sha256 are
// computed, the sha256 etcd appends to its database is verified, and a
// copy goes to an anonymous in-memory file (memfd_create(2) on Linux)
// which etcd's own snapshot status code (etcdutl, through bbolt) reads
// for the revision, key count and hash. Outside Linux there is no such
// file and those fields stay empty rather than touching the disk. A
// record (<name>.json, 0600) beside the snapshot holds the node, time,
// Talos version, size, hashes, revision and recipients. Once a snapshot
// is complete, the oldest beyond the newest keep (inventory
// talos.etcd_snapshots_keep) are deleted, snapshot then record.
//
// Restore is Talos's disaster recovery (upload the snapshot, bootstrap
// one control plane from it) with every precondition checked before a
// byte is sent: the confirmation (the cluster's name), the record, that
// the file decrypts with the caller's age key and matches the record,
// that the target is a control plane, and that every control plane
// answers with its etcd not running (wiped with talosctl reset
// --system-labels-to-wipe=EPHEMERAL). It then waits for the cluster to be
// healthy.
//
// Backups.Snapshot fits a caller that needs only the file (an upgrade
// taking a snapshot first): Snapshot(ctx) (string, error).
package etcdbackup
