package images_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wdiazux/infra/lib/images"
)

// Pin a checksum and look it up, as talos:import -verify does.
func ExampleLockFile() {
	dir, _ := os.MkdirTemp("", "lock")
	defer os.RemoveAll(dir)
	lock, _ := images.LoadLockFile(filepath.Join(dir, images.DefaultLockFile))
	_ = lock.Pin("talos", "v1.12.7", "53513e54bb39202f35694412577a6bc53d484744d35a126e5d42ef34785c0d83", "nocloud-amd64.qcow2",
		"5752f8e1e07deed6917cfdbe934ea882bd3a8b116bcafe168556fc8ca90f6e52")
	again, _ := images.LoadLockFile(lock.Path())
	sum, ok := again.Lookup("talos", "v1.12.7", "53513e54bb39202f35694412577a6bc53d484744d35a126e5d42ef34785c0d83", "nocloud-amd64.qcow2")
	fmt.Println(ok, sum[:12])
	// Output: true 5752f8e1e07d
}

// Record the build of a cloud image, as images:import does once the base
// VM holds it: one line per OS and release.
func ExampleLockFile_Record() {
	dir, _ := os.MkdirTemp("", "lock")
	defer os.RemoveAll(dir)
	lock, _ := images.LoadLockFile(filepath.Join(dir, images.DefaultLockFile))
	_ = lock.Record(images.LockedBuild{OS: "ubuntu", Release: "24.04", Serial: "20261120", File: "noble-server-cloudimg-amd64.img",
		Algorithm: "sha256", Checksum: "5752f8e1e07deed6917cfdbe934ea882bd3a8b116bcafe168556fc8ca90f6e52"})
	again, _ := images.LoadLockFile(lock.Path())
	b, ok := again.Build("ubuntu", "24.04")
	fmt.Println(ok, b.Serial, b.File, b.Algorithm)
	// Output: true 20261120 noble-server-cloudimg-amd64.img sha256
}
