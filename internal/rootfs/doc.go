// Package rootfs owns the Debian root filesystems the tests converge
// Ansible roles into: built once per suite and day with debootstrap from the
// machine's own Debian mirror into a cache outside the repository, copied
// for each test, and given /proc, /sys and /dev while a test runs in it.
package rootfs
