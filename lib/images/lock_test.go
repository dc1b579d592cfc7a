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
