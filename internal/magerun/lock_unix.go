//go:build unix

package magerun

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive lock on path, calling waiting once if another
// process holds it. The kernel releases the lock when the process ends, so
// a killed run never leaves it held.
func lock(path string, waiting func()) (unlock func(), err error) {
	return flock(path, waiting)
}

// tryLock takes the lock on path only if nobody holds it.
func tryLock(path string) (unlock func(), err error) {
	return flock(path, nil)
}

func flock(path string, waiting func()) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the build lock %s: %w", path, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) && waiting != nil {
		waiting()
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
