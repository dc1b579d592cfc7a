package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data, atomically, with the given mode. A file
// that holds secrets gets 0600 before any byte is written to it. On error
// the target is unchanged and no temporary file is left.
func Write(path string, data []byte, mode os.FileMode) error {
	return WriteFunc(path, mode, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteFunc replaces path, atomically, with what fill writes to a
// temporary file beside it (opened for reading and writing, already with
// the given mode). When fill fails, the target is unchanged and the
// temporary file is removed; fill's error is returned as it is.
func WriteFunc(path string, mode os.FileMode, fill func(f *os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Dir creates the directory path, atomically, from what fill puts in a
// temporary directory beside it (mode 0700): a reader finds no directory or
// a complete one, never half of one. path must not exist; a caller replacing
// a damaged one removes it first, and a directory that another process moved
// in meanwhile makes Dir fail with an error matching fs.ErrExist. When fill or
// the move fails, the temporary directory is removed; fill's error is
// returned as it is.
func Dir(path string, fill func(dir string) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}
