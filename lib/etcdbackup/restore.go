package etcdbackup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosnode"
)

// RestoreOptions are the settings of Restore.
type RestoreOptions struct {
	// File is the encrypted snapshot; its record must be beside it.
	File string
	// Node is the control plane to bootstrap from the snapshot ("" for the
	// first).
	Node string
	// Confirm must be the inventory's cluster name: a restore replaces
	// the cluster's whole state.
	Confirm string
	// Wait is how long to wait for the cluster to be healthy afterwards
	// (0: 10 minutes).
	Wait time.Duration
	// Interval is the time between health checks (0: Health's default).
	Interval time.Duration
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	// Node is the control plane bootstrapped from the snapshot.
	Node string
	// Record is the snapshot's.
	Record *Record
	// Health is the last health report.
	Health *talosnode.HealthReport
}

// NotRecoverableError lists the control planes that are not in the state
// a recovery needs (their etcd data wiped, etcd waiting for a bootstrap),
// or did not answer.
type NotRecoverableError struct {
	// Running names the control planes whose etcd runs, with its state.
	Running []string
	// Unreachable are the errors of the control planes that did not answer.
	Unreachable []error
}

// Error names the nodes and what to do.
func (e *NotRecoverableError) Error() string {
	var parts []string
	if len(e.Running) > 0 {
		parts = append(parts, "etcd still runs on "+strings.Join(e.Running, ", ")+": a recovery starts a new cluster from the snapshot, so every control plane's etcd data must be wiped first (talosctl reset --graceful=false --reboot --system-labels-to-wipe=EPHEMERAL on each control plane)")
	}
	for _, err := range e.Unreachable {
		parts = append(parts, err.Error())
	}
	if len(e.Unreachable) > 0 {
		parts = append(parts, "every control plane must answer before a recovery")
	}
	return fmt.Sprintf("%s: %s; nothing was sent", ErrNotRecoverable, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrNotRecoverable) true.
func (e *NotRecoverableError) Is(target error) bool { return target == ErrNotRecoverable }

// Restore recovers the cluster's etcd from an encrypted snapshot as Talos
// documents its disaster recovery: upload the snapshot to one control
// plane, bootstrap it from the snapshot, and the others join. It checks
// everything before sending a byte: the confirmation, the record beside
// the file, that the file decrypts with the caller's age key to a
// plaintext whose size, sha256 and etcd status match the record and whose
// appended etcd sha256 verifies, that the target is a control plane, that
// every control plane answers and that none runs etcd (the state after
// `talosctl reset --system-labels-to-wipe=EPHEMERAL`). Then it streams the
// decrypted snapshot (verified again on the way), bootstraps, and waits
// for the cluster to be healthy.
func (b *Backups) Restore(ctx context.Context, o RestoreOptions) (*RestoreResult, error) {
	if o.Confirm != b.inv.Talos.ClusterName {
		return nil, fmt.Errorf("%w: a restore replaces the whole state of cluster %q with %s; confirm with the cluster's name (got %q); nothing was done", ErrNotConfirmed, b.inv.Talos.ClusterName, o.File, o.Confirm)
	}
	rec, err := b.checkFile(o.File)
	if err != nil {
		return nil, err
	}
	target, err := b.checkCluster(ctx, o.Node)
	if err != nil {
		return nil, err
	}
	res := &RestoreResult{Node: target, Record: rec}
	if err := b.upload(ctx, o.File, target, rec); err != nil {
		return res, err
	}
	if err := b.cluster.BootstrapRecover(ctx, target, false); err != nil {
		return res, err
	}
	wait := o.Wait
	if wait <= 0 {
		wait = 10 * time.Minute
	}
	res.Health, err = b.cluster.Health(ctx, talosnode.HealthOptions{Wait: wait, Interval: o.Interval, Progress: func(*talosnode.HealthReport) {
		b.progress(Progress{Phase: "health", Node: target})
	}})
	return res, err
}

// identitiesOrDefault returns WithIdentities' identities, else lib/secrets'.
func (b *Backups) identitiesOrDefault() ([]age.Identity, error) {
	if len(b.identities) > 0 {
		return b.identities, nil
	}
	return secrets.LoadIdentities()
}

// decrypt opens the snapshot for reading its plaintext.
func (b *Backups) decrypt(path string) (io.Reader, io.Closer, error) {
	ids, err := b.identitiesOrDefault()
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := age.Decrypt(f, ids...)
	if err != nil {
		_ = f.Close()
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, nil, fmt.Errorf("%s: no age key you hold opens it (it is encrypted to the keys its record lists): %w", path, err)
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, f, nil
}

// checkFile verifies the snapshot against its record without sending it.
func (b *Backups) checkFile(path string) (*Record, error) {
	recPath := RecordPath(path)
	if !strings.HasSuffix(path, SnapshotSuffix) {
		return nil, fmt.Errorf("%s: not a snapshot (its name must end in %s, with its record %s beside it)", path, SnapshotSuffix, RecordSuffix)
	}
	rec, err := ReadRecord(recPath)
	if err != nil {
		return nil, fmt.Errorf("the record of %s: %w", path, err)
	}
	if rec.File != filepath.Base(path) {
		return nil, fmt.Errorf("%w: %s is the record of %s, not of %s", ErrIntegrity, recPath, rec.File, filepath.Base(path))
	}
	if rec.Cluster != b.inv.Talos.ClusterName {
		return nil, fmt.Errorf("%w: %s is a snapshot of cluster %q, the inventory's is %q", ErrIntegrity, path, rec.Cluster, b.inv.Talos.ClusterName)
	}
	r, c, err := b.decrypt(path)
	if err != nil {
		return nil, err
	}
	defer c.Close() //nolint:errcheck
	v, err := newVerifier(b.progressFor("verify", "", rec.Size))
	if err != nil {
		return nil, err
	}
	defer v.close()
	if _, err := io.Copy(v, r); err != nil {
		return nil, fmt.Errorf("%s: decrypt: %w", path, err)
	}
	if err := v.check(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrIntegrity, path, err)
	}
	got := &Record{}
	if err := v.status(got); err != nil {
		return nil, fmt.Errorf("%w: %s: etcd's snapshot status: %w", ErrIntegrity, path, err)
	}
	if err := matches(rec, got); err != nil {
		return nil, fmt.Errorf("%w: %s does not match its record %s: %w", ErrIntegrity, path, recPath, err)
	}
	return rec, nil
}

// matches compares what the plaintext is with what the record says.
func matches(want, got *Record) error {
	var diffs []string
	check := func(field string, w, g any) {
		if w != g {
			diffs = append(diffs, fmt.Sprintf("%s is %v, the record says %v", field, g, w))
		}
	}
	check("size", want.Size, got.Size)
	check("sha256", want.SHA256, got.SHA256)
	check("etcd_sha256", want.EtcdSHA256, got.EtcdSHA256)
	if want.Revision != 0 && got.Revision != 0 {
		check("revision", want.Revision, got.Revision)
		check("hash", want.Hash, got.Hash)
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

// checkCluster checks the target is a control plane and that every
// control plane answers with its etcd not running; it returns the target.
func (b *Backups) checkCluster(ctx context.Context, node string) (string, error) {
	cps := b.inv.Talos.ControlPlanes()
	if len(cps) == 0 {
		return "", errors.New("the inventory has no control-plane node")
	}
	target := cps[0].Name
	if node != "" {
		target = node
		if _, err := b.cluster.EtcdState(ctx, node); errors.Is(err, talosnode.ErrNotControlPlane) || errors.Is(err, talosnode.ErrUnknownNode) {
			return "", err
		}
	}
	nr := &NotRecoverableError{}
	for _, cp := range cps {
		st, err := b.cluster.EtcdState(ctx, cp.Name)
		switch {
		case err != nil:
			nr.Unreachable = append(nr.Unreachable, err)
		case st.Running():
			nr.Running = append(nr.Running, fmt.Sprintf("%s (service %s, %d member(s))", cp.Name, st.Service, len(st.Members)))
		}
	}
	if len(nr.Running) > 0 || len(nr.Unreachable) > 0 {
		return "", nr
	}
	return target, nil
}

// upload streams the decrypted snapshot to the node, verifying it again
// on the way: a file that changed since it was checked is caught before
// the bootstrap.
func (b *Backups) upload(ctx context.Context, path, node string, rec *Record) error {
	r, c, err := b.decrypt(path)
	if err != nil {
		return err
	}
	defer c.Close() //nolint:errcheck
	v, err := newVerifier(b.progressFor("upload", node, rec.Size))
	if err != nil {
		return err
	}
	defer v.close()
	if _, err := b.cluster.EtcdRecover(ctx, node, io.TeeReader(r, v)); err != nil {
		return err
	}
	got := &Record{}
	if err := errors.Join(v.check(), v.status(got)); err != nil {
		return fmt.Errorf("%w: %s changed while it was uploaded: %w; %s was not bootstrapped", ErrIntegrity, path, err, node)
	}
	if err := matches(rec, got); err != nil {
		return fmt.Errorf("%w: %s changed while it was uploaded: %w; %s was not bootstrapped", ErrIntegrity, path, err, node)
	}
	return nil
}
