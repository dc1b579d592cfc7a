package packer

import (
	"errors"
	"fmt"
	"os"
)

// ErrNoMemoryDir is returned (wrapped) by MemoryTempDir when no directory
// in memory is available.
var ErrNoMemoryDir = errors.New("no memory-backed temporary directory")

// MemoryTempDir returns a directory whose files live in memory only (a
// tmpfs), for Packer's temporary files while a build writes a secret into
// them (the Windows answer files Packer puts on a CD): $XDG_RUNTIME_DIR
// (the user's own, 0700) when it is a tmpfs, else /dev/shm when it is one.
// Pass it to WithTempDir.
func MemoryTempDir() (string, error) {
	var tried []string
	for _, dir := range []string{os.Getenv("XDG_RUNTIME_DIR"), "/dev/shm"} {
		if dir == "" {
			continue
		}
		ok, err := inMemory(dir)
		if err == nil && ok {
			return dir, nil
		}
		tried = append(tried, fmt.Sprintf("%s (%s)", dir, memoryNote(ok, err)))
	}
	return "", fmt.Errorf("%w: tried %v", ErrNoMemoryDir, tried)
}

func memoryNote(ok bool, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case !ok:
		return "not a tmpfs"
	}
	return "a tmpfs"
}
