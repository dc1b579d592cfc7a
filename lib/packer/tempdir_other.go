//go:build !linux

package packer

import "errors"

// inMemory cannot tell a memory file system outside Linux.
func inMemory(string) (bool, error) {
	return false, errors.New("cannot tell a tmpfs on this operating system")
}
