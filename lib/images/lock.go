package images

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// DefaultLockFile is the lock file's name next to the inventory.
const DefaultLockFile = "images.lock"

// LockFile holds pinned image checksums, one line per image, five fields:
//
//	talos v1.12.7 <schematic ID> nocloud-amd64.qcow2 sha256:<hex>
//	ubuntu 24.04 20261120 noble-server-cloudimg-amd64.img sha256:<hex>
//	debian 13 20261118-2301 debian-13-genericcloud-amd64-20261118-2301.qcow2 sha512:<hex>
//
// A Talos line is <kind> <version> <schematic> <file> and its sum is pinned
// on first use (the factory publishes none). A cloud image's line is <os>
// <release> <build serial> <publisher's file> and its sum is the one the
// publisher signed, in the publisher's algorithm; there is one line per OS
// and release, the build the base VM holds. Like go.sum it is committed, so
// every machine verifies the same bytes. It is safe for concurrent use.
type LockFile struct {
	path  string
	mu    sync.Mutex
	lines map[string]string // "kind version source file" → "sha256:<hex>"
}

var (
	sumRe      = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	cloudSumRe = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)
)

// LoadLockFile reads a lock file; a missing file is an empty lock.
func LoadLockFile(path string) (*LockFile, error) {
	l := &LockFile{path: path, lines: map[string]string{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 5 || !sumRe.MatchString(fields[4]) && (fields[0] == "talos" || !cloudSumRe.MatchString(fields[4])) {
			return nil, fmt.Errorf("%s:%d: want \"<kind> <version> <source> <file> sha256:<hex>\" (a cloud image may have sha512:<hex>), got %q", path, n, line)
		}
		l.lines[strings.Join(fields[:4], " ")] = fields[4]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read lock file %s: %w", path, err)
	}
	return l, nil
}

// Path is the lock file's path.
func (l *LockFile) Path() string { return l.path }

// Lookup returns the pinned hex SHA-256 of an image, if any.
func (l *LockFile) Lookup(kind, version, source, file string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.lines[strings.Join([]string{kind, version, source, file}, " ")]
	return strings.TrimPrefix(v, "sha256:"), ok
}

// Pin records an image's hex SHA-256 and writes the file atomically.
func (l *LockFile) Pin(kind, version, source, file, sum string) error {
	if !sumRe.MatchString("sha256:" + sum) {
		return fmt.Errorf("pin %s %s: %q is not a hex SHA-256", kind, version, sum)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines[strings.Join([]string{kind, version, source, file}, " ")] = "sha256:" + sum
	return l.write()
}

func (l *LockFile) write() error {
	keys := slices.Sorted(maps.Keys(l.lines))
	var b strings.Builder
	b.WriteString("# images.lock: checksums of the images the imports use. Commit it; imports pass the sum to PVE.\n")
	b.WriteString("# Talos (pinned on first use by an import that verifies the image, as the factory publishes none):\n")
	b.WriteString("#   talos <version> <schematic> <file> sha256:<hex>\n")
	b.WriteString("# Cloud images (the build the base VM holds, with the sum its publisher signed):\n")
	b.WriteString("#   <os> <release> <build serial> <publisher's file> sha256:<hex> | sha512:<hex>\n")
	for _, k := range keys {
		b.WriteString(k + " " + l.lines[k] + "\n")
	}
	if err := atomicfile.Write(l.path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}

// LockedBuild is a cloud image's line in the lock file: the build of an OS
// release that its base VM holds, and the publisher's checksum of it.
type LockedBuild struct {
	OS, Release string
	// Serial is the publisher's build name ("20261120", "20261118-2301").
	Serial string
	// File is the publisher's file name of the image.
	File string
	// Algorithm ("sha256" or "sha512") and Checksum (lower-case hex) are
	// the publisher's.
	Algorithm, Checksum string
}

// Build returns the recorded build of a cloud image's OS and release.
func (l *LockFile) Build(os, release string) (LockedBuild, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	prefix := os + " " + release + " "
	for k, v := range l.lines {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			serial, file, _ := strings.Cut(rest, " ")
			alg, sum, _ := strings.Cut(v, ":")
			return LockedBuild{OS: os, Release: release, Serial: serial, File: file, Algorithm: alg, Checksum: sum}, true
		}
	}
	return LockedBuild{}, false
}

// Record makes b the recorded build of its OS and release (replacing any
// other build of them) and writes the file atomically.
func (l *LockFile) Record(b LockedBuild) error {
	if b.OS == "talos" {
		return fmt.Errorf("record %s %s: talos lines are pinned with Pin", b.OS, b.Release)
	}
	for _, f := range [][2]string{{"os", b.OS}, {"release", b.Release}, {"serial", b.Serial}, {"file", b.File}} {
		if f[1] == "" || strings.ContainsAny(f[1], " \t\n#") {
			return fmt.Errorf("record %s %s: %s %q must be one word", b.OS, b.Release, f[0], f[1])
		}
	}
	sum := b.Algorithm + ":" + b.Checksum
	if !cloudSumRe.MatchString(sum) {
		return fmt.Errorf("record %s %s: %q is not a hex SHA-256 or SHA-512", b.OS, b.Release, sum)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	prefix := b.OS + " " + b.Release + " "
	for k := range l.lines {
		if strings.HasPrefix(k, prefix) {
			delete(l.lines, k)
		}
	}
	l.lines[strings.Join([]string{b.OS, b.Release, b.Serial, b.File}, " ")] = sum
	return l.write()
}
