//go:build !unix

package magerun

import "fmt"

// lock is only implemented where flock(2) exists; elsewhere it refuses,
// since two unlocked builds in one checkout break each other.
func lock(path string, _ func()) (func(), error) {
	return nil, fmt.Errorf("lock %s: building the targets needs flock(2) (Linux, macOS, BSD)", path)
}

func tryLock(path string) (func(), error) { return lock(path, nil) }
