// Package diskimage owns the disk image formats the project moves around:
// recognising qcow2, vmdk, raw and ova files the way `qemu-img info` would,
// reading a qcow2 header (virtual size, backing file, external data file), and
// writing small but valid qcow2 images for tests, the simulator and the demo.
package diskimage
