//go:build !linux

package etcdbackup

import "os"

// memFile has no implementation outside Linux.
func memFile() (*os.File, string, error) { return nil, "", errNoMemFile }
