// Package diskimage owns the disk image formats the project moves around:
// recognising qcow2, vmdk, raw and ova files the way `qemu-img info` would,
// reading a qcow2 header (virtual size, backing file, external data file),
// writing small but valid qcow2 images for tests, the simulator and the demo
// (WriteQCOW2), and writing a large sparse qcow2 as its clusters arrive
// (SparseQCOW2, used to convert a NixOS VMA disk).
//
// Inspect refuses a qcow2 header that qemu's qcow2_do_open (block/qcow2.c)
// refuses — cluster size, header length, backing file offset, refcount
// width, the refcount, snapshot and L1 tables' size and alignment, an L1
// table too small for the virtual size — with a *HeaderError carrying qemu's
// own message, which `qemu-img info` prints and PVE passes on.
//
// The qcow2 layout follows qemu's specification, docs/interop/qcow2.txt in
// the qemu repository: a version 3 header (104 bytes, no extensions), 64 KiB
// clusters (cluster_bits 16, the cluster size of a VMA archive), 16-bit
// refcounts (refcount_order 4), one L1 table whose entries point to L2
// tables of 8192 entries, each entry the host offset of a data cluster with
// bit 63 (QCOW_OFLAG_COPIED) set because every refcount is exactly one.
//
// SparseQCOW2 writes onto a seekable file: cluster 0 is reserved for the
// header, data clusters are appended in the order they arrive (any guest
// order; a cluster never written reads as zeros and takes no space), and
// Close appends the L2 tables, the L1 table, the refcount blocks and the
// refcount table — sized so the refcounts also cover themselves — and then
// writes the header. Memory is 4 bytes per guest cluster of each 512 MiB
// range that holds data plus one 64 KiB buffer, never the data. `qemu-img
// check` finds the result free of errors and leaks and `qemu-img compare`
// finds it identical to the raw disk it describes (sparse_test.go).
package diskimage
