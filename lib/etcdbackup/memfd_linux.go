//go:build linux

package etcdbackup

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// memFile is an anonymous file in memory (memfd_create(2)): the plaintext
// snapshot is written there so etcd's own status code (bbolt, which needs a
// file to map) can read its revision, and no plaintext reaches a disk.
// Path names it through /proc/self/fd.
func memFile() (*os.File, string, error) {
	fd, err := unix.MemfdCreate("etcd-snapshot", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, "", fmt.Errorf("memfd_create: %w", err)
	}
	return os.NewFile(uintptr(fd), "memfd:etcd-snapshot"), fmt.Sprintf("/proc/self/fd/%d", fd), nil
}
