package etcdbackup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosnode"
)

// DefaultDir is where snapshots go, relative to the repository root (the
// directory of homelab.yaml and .sops.yaml). Git ignores it.
const DefaultDir = "backups/etcd"

// RulePath is the path, relative to the repository root, whose creation
// rule in .sops.yaml gives the snapshots' age recipients, wherever the
// snapshots are written.
const RulePath = DefaultDir + "/etcd.snapshot.age"

// The suffixes of a snapshot and of its record.
const (
	SnapshotSuffix = ".snapshot.age"
	RecordSuffix   = ".json"
)

// Record is what is known of a snapshot, written beside it as
// <name>.json (mode 0600). Every field but File describes the plaintext,
// which exists only encrypted.
type Record struct {
	// File is the snapshot's file name, <name>.snapshot.age.
	File string `json:"file"`
	// Cluster is the inventory's talos.cluster_name.
	Cluster string `json:"cluster"`
	// Node is the control plane the snapshot was streamed from, and
	// TalosVersion the Talos version it ran.
	Node         string `json:"node"`
	TalosVersion string `json:"talos_version"`
	// Taken is when the snapshot was taken (UTC).
	Taken time.Time `json:"taken"`
	// Size is the plaintext's size in bytes: etcd's database and the
	// sha256 etcd appends to it.
	Size int64 `json:"size"`
	// SHA256 is the sha256 of the whole plaintext, hex.
	SHA256 string `json:"sha256"`
	// EtcdSHA256 is the sha256 etcd appended (of the database), hex,
	// verified as the snapshot streamed.
	EtcdSHA256 string `json:"etcd_sha256"`
	// Revision, TotalKeys, Hash and StorageVersion are etcd's snapshot
	// status (etcdutl's): the store's revision, its key count, etcd's
	// crc32 of the database (hex, as talosctl prints it) and the storage
	// version. Revision 0 means they could not be read without writing
	// the plaintext to disk (no in-memory file outside Linux).
	Revision       int64  `json:"revision"`
	TotalKeys      int    `json:"total_keys"`
	Hash           string `json:"hash"`
	StorageVersion string `json:"storage_version,omitempty"`
	// Recipients are the age public keys the snapshot is encrypted to.
	Recipients []string `json:"recipients"`
}

// Progress is a step of a long operation, for a progress display.
type Progress struct {
	// Phase is what is happening: "stream", "verify", "upload", "health".
	Phase string
	// Node is the node concerned.
	Node string
	// Bytes is how many plaintext bytes went through so far, of Total
	// (0 when unknown: a snapshot's size is known once it streamed).
	Bytes, Total int64
}

// Backups takes and restores the encrypted etcd snapshots of one cluster.
type Backups struct {
	inv        *inventory.Inventory
	cluster    *talosnode.Cluster
	root       string
	dir        string
	keep       int
	node       string
	now        func() time.Time
	progress   func(Progress)
	identities []age.Identity
	sopsConfig string
}

// Option configures Backups.
type Option func(*Backups)

// WithDir writes and reads snapshots in dir (default DefaultDir under the
// repository root).
func WithDir(dir string) Option { return func(b *Backups) { b.dir = dir } }

// WithKeep keeps the newest n snapshots (default: the inventory's
// talos.etcd_snapshots_keep).
func WithKeep(n int) Option { return func(b *Backups) { b.keep = n } }

// WithNode takes the snapshot from this control plane only (default: the
// first healthy one).
func WithNode(name string) Option { return func(b *Backups) { b.node = name } }

// WithClock sets the clock that names snapshots (default time.Now).
func WithClock(now func() time.Time) Option { return func(b *Backups) { b.now = now } }

// WithProgress receives progress while streaming (about every MiB).
func WithProgress(f func(Progress)) Option { return func(b *Backups) { b.progress = f } }

// WithIdentities decrypts with these age identities instead of the key
// file lib/secrets reads (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, the default).
func WithIdentities(ids ...age.Identity) Option {
	return func(b *Backups) { b.identities = append(b.identities, ids...) }
}

// WithSopsConfig reads the recipients from this .sops.yaml instead of the
// repository root's.
func WithSopsConfig(path string) Option { return func(b *Backups) { b.sopsConfig = path } }

// New returns the backups of the inventory's cluster; root is the
// repository root (homelab.yaml's directory), cluster its Talos API
// client.
func New(inv *inventory.Inventory, cluster *talosnode.Cluster, root string, opts ...Option) *Backups {
	b := &Backups{inv: inv, cluster: cluster, root: root, keep: inv.Talos.SnapshotsKeep(), now: time.Now, progress: func(Progress) {}}
	b.dir = filepath.Join(root, DefaultDir)
	for _, o := range opts {
		o(b)
	}
	return b
}

// Dir is where the snapshots are.
func (b *Backups) Dir() string { return b.dir }

// The errors of Snapshot and Restore.
var (
	// ErrNoHealthyControlPlane: no control plane runs a healthy etcd.
	ErrNoHealthyControlPlane = errors.New("no control plane runs a healthy etcd")
	// ErrIntegrity: a snapshot's plaintext is not what etcd or the record
	// says it is.
	ErrIntegrity = errors.New("snapshot integrity check failed")
	// ErrDirMode: the snapshot directory is readable by others.
	ErrDirMode = errors.New("snapshot directory readable by others")
	// ErrNotConfirmed: a restore was not confirmed with the cluster's name.
	ErrNotConfirmed = errors.New("restore not confirmed")
	// ErrNotRecoverable: the cluster is not in the state a recovery needs.
	ErrNotRecoverable = errors.New("the cluster is not ready for an etcd recovery")
)

// Snapshot takes a snapshot and returns its path, for a caller that only
// needs the file (an upgrade's snapshot first).
func (b *Backups) Snapshot(ctx context.Context) (string, error) {
	rec, err := b.Take(ctx)
	if err != nil {
		return "", err
	}
	return filepath.Join(b.dir, rec.File), nil
}

// Take streams a snapshot from a healthy control plane, encrypting it on
// the fly to the recipients .sops.yaml gives RulePath (placeholders are
// refused) into a temporary file of the directory (0600), verifies etcd's
// appended sha256 and reads etcd's status on the way, writes the record,
// renames both into place, then deletes the snapshots beyond the newest
// keep. The plaintext is never written to a disk: it goes through memory
// only (an in-memory file on Linux, for etcd's status code).
func (b *Backups) Take(ctx context.Context) (*Record, error) {
	keys, recipients, err := b.recipients()
	if err != nil {
		return nil, err
	}
	if b.keep < 1 {
		return nil, fmt.Errorf("keep %d: keep at least one snapshot", b.keep)
	}
	if err := b.ensureDir(); err != nil {
		return nil, err
	}
	st, err := b.healthyControlPlane(ctx)
	if err != nil {
		return nil, err
	}
	taken := b.now().UTC().Truncate(time.Second)
	base := fmt.Sprintf("etcd-%s-%s", b.inv.Talos.ClusterName, taken.Format("20060102T150405Z"))
	rec := &Record{File: base + SnapshotSuffix, Cluster: b.inv.Talos.ClusterName, Node: st.Node, TalosVersion: st.TalosVersion, Taken: taken, Recipients: keys}
	final := filepath.Join(b.dir, rec.File)
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("%s exists: a snapshot was taken this second; take it again", final)
	}
	tmp, err := os.CreateTemp(b.dir, ".etcd-snapshot-*.tmp")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return nil, err
	}
	enc, err := age.Encrypt(tmp, recipients...)
	if err != nil {
		return nil, fmt.Errorf("age: %w", err)
	}
	v, err := newVerifier(b.progressFor("stream", st.Node, 0))
	if err != nil {
		return nil, err
	}
	defer v.close()
	if _, err := b.cluster.EtcdSnapshot(ctx, st.Node, io.MultiWriter(enc, v)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("%s: age: %w", tmp.Name(), err)
	}
	if err := v.check(); err != nil {
		return nil, fmt.Errorf("%w: the snapshot %s streamed: %w", ErrIntegrity, st.Node, err)
	}
	if err := v.status(rec); err != nil {
		return nil, fmt.Errorf("%w: etcd's status of the snapshot %s streamed: %w", ErrIntegrity, st.Node, err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := writeRecord(filepath.Join(b.dir, base+RecordSuffix), rec); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return nil, err
	}
	done = true
	if err := syncDir(b.dir); err != nil {
		return rec, err
	}
	return rec, b.prune()
}

// recipients reads the snapshots' recipients from .sops.yaml.
func (b *Backups) recipients() ([]string, []age.Recipient, error) {
	var opts []secrets.Option
	if b.sopsConfig != "" {
		opts = append(opts, secrets.WithConfig(b.sopsConfig))
	}
	named, recipients, _, err := secrets.RuleRecipients(filepath.Join(b.root, RulePath), opts...)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, len(named))
	for i, n := range named {
		keys[i] = n.Key
	}
	return keys, recipients, nil
}

// ensureDir makes the directory (0700) or checks that others cannot read
// it.
func (b *Backups) ensureDir() error {
	fi, err := os.Stat(b.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(b.dir, 0o700)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", b.dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; make it 0700 (chmod 700 %s)", ErrDirMode, b.dir, fi.Mode().Perm(), b.dir)
	}
	return nil
}

// healthyControlPlane picks the control plane to stream from: the named
// one, or the first whose etcd runs, is healthy and lists its members.
func (b *Backups) healthyControlPlane(ctx context.Context) (talosnode.EtcdState, error) {
	var cps []string
	for _, n := range b.inv.Talos.ControlPlanes() {
		if b.node == "" || n.Name == b.node {
			cps = append(cps, n.Name)
		}
	}
	if b.node != "" && len(cps) == 0 {
		// Let talosnode say whether it is unknown or a worker.
		_, err := b.cluster.EtcdState(ctx, b.node)
		if err == nil {
			err = fmt.Errorf("%s is not a control plane", b.node)
		}
		return talosnode.EtcdState{}, err
	}
	var why []string
	for _, name := range cps {
		st, err := b.cluster.EtcdState(ctx, name)
		switch {
		case err != nil:
			why = append(why, err.Error())
		case st.Service != "Running" || !st.Healthy:
			why = append(why, fmt.Sprintf("%s: etcd is %s%s", name, st.Service, suffix(st.Message)))
		case st.MembersErr != nil:
			why = append(why, st.MembersErr.Error())
		default:
			return st, nil
		}
	}
	return talosnode.EtcdState{}, fmt.Errorf("%w: %s", ErrNoHealthyControlPlane, strings.Join(why, "; "))
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}

// progressFor reports progress of a phase about every MiB, and at its
// end when the total is known.
func (b *Backups) progressFor(phase, node string, total int64) func(int64) {
	var last int64 = -1
	return func(n int64) {
		if last < 0 || n-last >= 1<<20 || n == total {
			last = n
			b.progress(Progress{Phase: phase, Node: node, Bytes: n, Total: total})
		}
	}
}

// verifier takes the plaintext as it streams: its size and sha256, the
// sha256 of all but the last 32 bytes (etcd's database, whose sha256 etcd
// appends), and a copy in an in-memory file for etcd's status code.
type verifier struct {
	n        int64
	all, db  hash.Hash
	tail     []byte
	mem      *os.File
	memPath  string
	progress func(int64)
}

func newVerifier(progress func(int64)) (*verifier, error) {
	v := &verifier{all: sha256.New(), db: sha256.New(), progress: progress}
	mem, path, err := memFile()
	if err == nil {
		v.mem, v.memPath = mem, path
	} else if !errors.Is(err, errNoMemFile) {
		return nil, err
	}
	return v, nil
}

// Write takes the next plaintext bytes.
func (v *verifier) Write(p []byte) (int, error) {
	v.n += int64(len(p))
	v.all.Write(p)
	buf := append(v.tail, p...)
	if k := len(buf) - sha256.Size; k > 0 {
		v.db.Write(buf[:k])
		buf = buf[k:]
	}
	v.tail = append([]byte(nil), buf...)
	if v.mem != nil {
		if _, err := v.mem.Write(p); err != nil {
			return 0, fmt.Errorf("in-memory copy: %w", err)
		}
	}
	v.progress(v.n)
	return len(p), nil
}

// check verifies etcd's appended sha256: a snapshot etcd streams is its
// database (whole 512-byte sectors) followed by the database's sha256.
func (v *verifier) check() error {
	if v.n%512 != sha256.Size {
		return fmt.Errorf("%d bytes: not an etcd snapshot with its sha256 appended", v.n)
	}
	if got := v.db.Sum(nil); !bytes.Equal(got, v.tail) {
		return fmt.Errorf("etcd's appended sha256 is %x, the database's is %x", v.tail, got)
	}
	return nil
}

// status fills the record from the stream and etcd's snapshot status.
func (v *verifier) status(rec *Record) error {
	rec.Size = v.n
	rec.SHA256 = hex.EncodeToString(v.all.Sum(nil))
	rec.EtcdSHA256 = hex.EncodeToString(v.tail)
	if v.mem == nil {
		return nil
	}
	st, err := snapshot.NewV3(zap.NewNop()).Status(v.memPath)
	if err != nil {
		return err
	}
	rec.Revision, rec.TotalKeys, rec.Hash, rec.StorageVersion = st.Revision, st.TotalKey, fmt.Sprintf("%08x", st.Hash), st.Version
	return nil
}

func (v *verifier) close() {
	if v.mem != nil {
		_ = v.mem.Close()
	}
}

// errNoMemFile says this system has no anonymous in-memory file: the
// snapshot's revision is then not read (Record.Revision stays 0), rather
// than writing the plaintext to disk for bbolt.
var errNoMemFile = errors.New("no in-memory file on this system")

// writeRecord writes a record atomically, 0600.
func writeRecord(path string, rec *Record) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".etcd-record-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if err := errors.Join(tmp.Chmod(0o600), write(tmp, append(data, '\n')), tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

func write(w io.Writer, data []byte) error {
	_, err := w.Write(data)
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close() //nolint:errcheck
	return d.Sync()
}

// List returns the records of the cluster's complete snapshots in the
// directory (a record whose snapshot exists), newest first.
func (b *Backups) List() ([]*Record, error) {
	entries, err := os.ReadDir(b.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	prefix := "etcd-" + b.inv.Talos.ClusterName + "-"
	var out []*Record
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, RecordSuffix) {
			continue
		}
		rec, err := ReadRecord(filepath.Join(b.dir, name))
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(b.dir, rec.File)); err == nil {
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b *Record) int { return b.Taken.Compare(a.Taken) })
	return out, nil
}

// ReadRecord reads a snapshot's record.
func ReadRecord(path string) (*Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if rec.File == "" || filepath.Base(rec.File) != rec.File {
		return nil, fmt.Errorf("%s: file %q is not a file name", path, rec.File)
	}
	return &rec, nil
}

// RecordPath is the record beside a snapshot.
func RecordPath(snapshotPath string) string {
	return strings.TrimSuffix(snapshotPath, SnapshotSuffix) + RecordSuffix
}

// prune deletes the snapshots (then their records) beyond the newest keep.
func (b *Backups) prune() error {
	recs, err := b.List()
	if err != nil {
		return err
	}
	for _, r := range recs[min(b.keep, len(recs)):] {
		path := filepath.Join(b.dir, r.File)
		if err := os.Remove(path); err != nil {
			return err
		}
		if err := os.Remove(RecordPath(path)); err != nil {
			return err
		}
	}
	return nil
}
