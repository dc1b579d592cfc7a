package packer

import "syscall"

// tmpfsMagic is the file system type statfs(2) reports for a tmpfs.
const tmpfsMagic = 0x01021994

// inMemory reports whether dir is on a tmpfs.
func inMemory(dir string) (bool, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false, err
	}
	return st.Type == tmpfsMagic, nil
}
