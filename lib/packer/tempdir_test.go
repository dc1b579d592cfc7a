//go:build linux

package packer_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/packer"
)

// TestMemoryTempDir: a $XDG_RUNTIME_DIR on a disk is passed over for
// /dev/shm when that is a tmpfs; otherwise the error names what was tried.
func TestMemoryTempDir(t *testing.T) {
	onDisk := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", onDisk)
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(onDisk, &st))
	require.NotEqual(t, int64(0x01021994), st.Type, "the test needs its temporary directory on a disk")
	shmIsTmpfs := syscall.Statfs("/dev/shm", &st) == nil && st.Type == 0x01021994

	dir, err := packer.MemoryTempDir()
	if shmIsTmpfs {
		require.NoError(t, err)
		require.Equal(t, "/dev/shm", dir)
		return
	}
	require.ErrorIs(t, err, packer.ErrNoMemoryDir)
	require.ErrorContains(t, err, onDisk+" (not a tmpfs)")
}

// TestWithTempDir: Packer gets the directory as TMPDIR.
func TestWithTempDir(t *testing.T) {
	dir := t.TempDir()
	tpl, err := packer.FindTemplate(repo, "windows")
	require.NoError(t, err)
	bin := filepath.Join(dir, "packer")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho \"TMPDIR=$TMPDIR\"\n"), 0o755))
	var out bytes.Buffer
	r, err := packer.New(packer.WithBinary(bin), packer.WithTempDir("/dev/shm"), packer.WithOutput(&out))
	require.NoError(t, err)
	require.NoError(t, r.Validate(context.Background(), tpl, nil))
	require.Equal(t, "TMPDIR=/dev/shm", strings.TrimSpace(out.String()))
}
