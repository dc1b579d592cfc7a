//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wdiazux/infra/internal/progress"
	"github.com/wdiazux/infra/lib/etcdbackup"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosnode"
)

// etcdBackups is the backups of the inventory's cluster, in dir or
// backups/etcd beside the inventory.
func etcdBackups(file, dir *string, opts ...etcdbackup.Option) (*etcdbackup.Backups, error) {
	path, inv, err := loadInventory(file)
	if err != nil {
		return nil, err
	}
	c, err := clusterOf(path, inv)
	if err != nil {
		return nil, err
	}
	if value(dir) != "" {
		opts = append(opts, etcdbackup.WithDir(value(dir)))
	}
	return etcdbackup.New(inv, c, filepath.Dir(path), opts...), nil
}

// etcdAdvice adds what to run to an error of lib/etcdbackup.
func etcdAdvice(err error) error {
	switch {
	case errors.Is(err, secrets.ErrPlaceholder):
		return fmt.Errorf("%w\nrun: go run mage.go secrets:keygen && go run mage.go secrets:recipient admin", err)
	case errors.Is(err, secrets.ErrNoKey):
		return fmt.Errorf("%w\nrun: go run mage.go secrets:keygen    # or point SOPS_AGE_KEY_FILE at the key the snapshot is encrypted to", err)
	case errors.Is(err, etcdbackup.ErrNoHealthyControlPlane):
		return fmt.Errorf("%w\nrun: go run mage.go talos:health    # says what is wrong", err)
	}
	return talosAdvice(err)
}

// bytesProgress shows a stream's progress: a bar when the total is known,
// a line every 16 MiB otherwise.
func bytesProgress(bar *progress.Printer) func(etcdbackup.Progress) {
	var noted int64 = -1
	return func(p etcdbackup.Progress) {
		if p.Total > 0 {
			bar.Update(100*float64(p.Bytes)/float64(p.Total), fmt.Sprintf("%s %.1f of %.1f MiB", p.Node, mib(p.Bytes), mib(p.Total)))
			return
		}
		if p.Bytes/(16<<20) > noted {
			noted = p.Bytes / (16 << 20)
			bar.Note(fmt.Sprintf("%s: %.1f MiB", p.Node, mib(p.Bytes)))
		}
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// EtcdSnapshot streams an etcd snapshot from a healthy control plane, age-encrypted on the fly, into backups/etcd (0600); keeps the newest N.
//
// Streams a snapshot of etcd through the Talos API from the first control
// plane whose etcd runs and is healthy (or `-node`), encrypted on the fly to
// the age recipients `.sops.yaml` gives `backups/etcd/*.snapshot.age`
// (placeholders refused): the plaintext never touches a disk. Writes
// `etcd-<cluster>-<UTC time>.snapshot.age` and its record `<same>.json`
// (node, time, Talos version, size, sha256, etcd's revision and hash,
// recipients), both 0600, in `-dir` (default `backups/etcd/` beside the
// inventory, 0700, git-ignored), then deletes the oldest beyond `-keep`
// (default `talos.etcd_snapshots_keep`, 7). Copy the directory off the host:
// see docs/operations/backups.md. Also `talos:etcd-snapshot`.
func (Talos) EtcdSnapshot(ctx context.Context,
	// the directory of the snapshots (default: backups/etcd beside the inventory)
	dir *string,
	// snapshots to keep (default: talos.etcd_snapshots_keep, else 7)
	keep *int,
	// the control plane to stream from (default: the first healthy one)
	node *string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	bar := progress.New(os.Stderr)
	opts := []etcdbackup.Option{etcdbackup.WithProgress(bytesProgress(bar))}
	if keep != nil {
		opts = append(opts, etcdbackup.WithKeep(*keep))
	}
	if value(node) != "" {
		opts = append(opts, etcdbackup.WithNode(value(node)))
	}
	b, err := etcdBackups(file, dir, opts...)
	if err != nil {
		return err
	}
	bar.Step("stream and encrypt the etcd snapshot")
	rec, err := b.Take(ctx)
	if err != nil {
		return etcdAdvice(err)
	}
	bar.Done(fmt.Sprintf("%.1f MiB from %s", mib(rec.Size), rec.Node))
	fmt.Printf("%s\n  revision %d, %d keys, etcd hash %s, sha256 %s\n  encrypted to %v\n",
		filepath.Join(b.Dir(), rec.File), rec.Revision, rec.TotalKeys, rec.Hash, rec.SHA256, rec.Recipients)
	return nil
}

// EtcdRestore recovers etcd from an encrypted snapshot (Talos's disaster recovery) once every control plane's etcd was wiped; needs -confirm=<cluster name>.
//
// Talos's documented disaster recovery: uploads the decrypted snapshot to one
// control plane (`-node`, default the first) and bootstraps etcd there from
// it; the other control planes join; then waits for the cluster to be healthy
// (`-wait`, default 10m). Before anything is sent it checks `-confirm` (the
// inventory's `talos.cluster_name`), the record beside the file, that the file
// decrypts with your age key and matches the record (size, sha256, etcd's
// appended sha256, revision), that the node is a control plane, and that every
// control plane answers with its etcd not running: wipe them first with
// `talosctl reset --graceful=false --reboot --system-labels-to-wipe=EPHEMERAL`
// (docs/operations/backups.md). Also `talos:etcd-restore`.
func (Talos) EtcdRestore(ctx context.Context,
	// the encrypted snapshot, <name>.snapshot.age, its record <name>.json beside it
	snapshot string,
	// the control plane to bootstrap from the snapshot (default: the first)
	node *string,
	// the inventory's talos.cluster_name: a restore replaces the cluster's whole state
	confirm *string,
	// how long to wait for the cluster to be healthy afterwards (default 10m)
	wait *string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	d, err := waitFlag(wait, 0)
	if err != nil {
		return err
	}
	bar := progress.New(os.Stderr)
	show := bytesProgress(bar)
	b, err := etcdBackups(file, nil, etcdbackup.WithProgress(func(p etcdbackup.Progress) {
		if p.Phase != "health" {
			show(p)
		}
	}))
	if err != nil {
		return err
	}
	bar.Step("check the snapshot and the cluster, upload, bootstrap from it, wait for health")
	res, err := b.Restore(ctx, etcdbackup.RestoreOptions{File: snapshot, Node: value(node), Confirm: value(confirm), Wait: d})
	if errors.Is(err, etcdbackup.ErrNotConfirmed) {
		return fmt.Errorf("%w\nrun: go run mage.go talos:etcd-restore %s -confirm=<talos.cluster_name>", err, snapshot)
	}
	if res != nil && res.Health != nil {
		_ = res.Health.WriteTable(os.Stdout)
	}
	if err != nil {
		if errors.Is(err, talosnode.ErrUnhealthy) {
			return fmt.Errorf("%w\nrun: go run mage.go talos:health -wait=10m", err)
		}
		return etcdAdvice(err)
	}
	bar.Done(fmt.Sprintf("etcd recovered on %s from %s (revision %d)", res.Node, res.Record.File, res.Record.Revision))
	return nil
}
