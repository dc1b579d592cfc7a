package atomicfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.yaml")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))

	require.NoError(t, atomicfile.Write(path, []byte("new"), 0o600))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "new", string(data))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")

	err = atomicfile.Write(filepath.Join(dir, "missing", "x"), []byte("x"), 0o600)
	require.ErrorContains(t, err, "missing/x")
}

func TestWriteFuncKeepsTheTargetWhenFillFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bundle.zip")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	boom := errors.New("collector failed")
	err := atomicfile.WriteFunc(path, 0o600, func(f *os.File) error {
		_, werr := f.WriteString("half")
		require.NoError(t, werr)
		return boom
	})
	require.ErrorIs(t, err, boom)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "old", string(data), "the target is unchanged")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")
}

func TestDir(t *testing.T) {
	parent := t.TempDir()
	path := filepath.Join(parent, "cache", "sops-v1")
	boom := errors.New("go install failed")

	err := atomicfile.Dir(path, func(dir string) error {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "half"), nil, 0o644))
		return boom
	})
	require.ErrorIs(t, err, boom, "fill's error is returned as it is")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Empty(t, entries, "neither the target nor the temporary directory is left")

	require.NoError(t, atomicfile.Dir(path, func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "sops"), []byte("binary"), 0o755)
	}))
	data, err := os.ReadFile(filepath.Join(path, "sops"))
	require.NoError(t, err)
	require.Equal(t, "binary", string(data))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	err = atomicfile.Dir(path, func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "sops"), []byte("other"), 0o755)
	})
	require.ErrorIs(t, err, fs.ErrExist, "a directory moved in meanwhile is not replaced")
	require.ErrorContains(t, err, path)
	data, err = os.ReadFile(filepath.Join(path, "sops"))
	require.NoError(t, err)
	require.Equal(t, "binary", string(data))
	entries, err = os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary directory is left")
}
