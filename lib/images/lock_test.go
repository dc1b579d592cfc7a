package images_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/images"
)

func TestLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "images.lock")
	lock, err := images.LoadLockFile(path)
	require.NoError(t, err, "a missing lock file is an empty lock")
	_, ok := lock.Lookup("talos", "v1.12.7", "abc", "nocloud-amd64.qcow2")
	require.False(t, ok)

	sum := strings.Repeat("0f", 32)
	require.NoError(t, lock.Pin("talos", "v1.12.7", "bbb", "nocloud-amd64.qcow2", sum))
	require.NoError(t, lock.Pin("talos", "v1.12.6", "aaa", "nocloud-amd64.qcow2", sum))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Equal(t, "talos v1.12.6 aaa nocloud-amd64.qcow2 sha256:"+sum, lines[len(lines)-2], "sorted")
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	require.ErrorContains(t, lock.Pin("talos", "v1", "x", "f", "not-hex"), "is not a hex SHA-256")

	require.NoError(t, os.WriteFile(path, []byte("talos v1 x nocloud-amd64.qcow2 md5:abc\n"), 0o644))
	_, err = images.LoadLockFile(path)
	require.ErrorContains(t, err, path+":1: want")

	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")
}

// TestLockFileCloudBuilds: a cloud image's line records the build (serial),
// the publisher's file and its sha256 or sha512; recording another build of
// the same OS and release replaces the line, and Talos lines stay as they are.
func TestLockFileCloudBuilds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "images.lock")
	lock, err := images.LoadLockFile(path)
	require.NoError(t, err)
	_, ok := lock.Build("ubuntu", "24.04")
	require.False(t, ok)

	talosSum, s256, s512 := strings.Repeat("0f", 32), strings.Repeat("ab", 32), strings.Repeat("cd", 64)
	require.NoError(t, lock.Pin("talos", "v1.12.7", "bbb", "nocloud-amd64.qcow2", talosSum))
	require.NoError(t, lock.Record(images.LockedBuild{OS: "ubuntu", Release: "24.04", Serial: "20261101", File: "noble-server-cloudimg-amd64.img", Algorithm: "sha256", Checksum: s256}))
	require.NoError(t, lock.Record(images.LockedBuild{OS: "ubuntu", Release: "24.04", Serial: "20261120", File: "noble-server-cloudimg-amd64.img", Algorithm: "sha256", Checksum: s256}))
	require.NoError(t, lock.Record(images.LockedBuild{OS: "debian", Release: "13", Serial: "20261118-2301", File: "debian-13-genericcloud-amd64-20261118-2301.qcow2", Algorithm: "sha512", Checksum: s512}))

	again, err := images.LoadLockFile(path)
	require.NoError(t, err)
	b, ok := again.Build("ubuntu", "24.04")
	require.True(t, ok)
	require.Equal(t, images.LockedBuild{OS: "ubuntu", Release: "24.04", Serial: "20261120", File: "noble-server-cloudimg-amd64.img", Algorithm: "sha256", Checksum: s256}, b)
	b, ok = again.Build("debian", "13")
	require.True(t, ok)
	require.Equal(t, "sha512", b.Algorithm)
	require.Equal(t, s512, b.Checksum)
	sum, ok := again.Lookup("talos", "v1.12.7", "bbb", "nocloud-amd64.qcow2")
	require.True(t, ok)
	require.Equal(t, talosSum, sum)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), "talos v1.12.7 bbb nocloud-amd64.qcow2 sha256:"+talosSum+"\n")
	require.Contains(t, string(data), "ubuntu 24.04 20261120 noble-server-cloudimg-amd64.img sha256:"+s256+"\n")
	require.NotContains(t, string(data), "20261101", "one build per OS and release")

	tests := []struct {
		name string
		b    images.LockedBuild
		want string
	}{
		{"md5", images.LockedBuild{OS: "arch", Release: "rolling", Serial: "1", File: "f.qcow2", Algorithm: "md5", Checksum: "ab"}, `"md5:ab" is not a hex SHA-256 or SHA-512`},
		{"short sha512", images.LockedBuild{OS: "arch", Release: "rolling", Serial: "1", File: "f.qcow2", Algorithm: "sha512", Checksum: s256}, "is not a hex SHA-256 or SHA-512"},
		{"space in a field", images.LockedBuild{OS: "arch", Release: "rolling", Serial: "1 2", File: "f.qcow2", Algorithm: "sha256", Checksum: s256}, `serial "1 2"`},
		{"talos", images.LockedBuild{OS: "talos", Release: "v1", Serial: "1", File: "f.qcow2", Algorithm: "sha256", Checksum: s256}, "talos lines are pinned with Pin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorContains(t, lock.Record(tt.b), tt.want)
		})
	}

	require.NoError(t, os.WriteFile(path, []byte("debian 13 1 f.qcow2 sha512:abcd\n"), 0o644))
	_, err = images.LoadLockFile(path)
	require.ErrorContains(t, err, path+":1: want")
}
