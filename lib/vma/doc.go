// Package vma reads Proxmox's Virtual Machine Archive (VMA) backup format as a stream.
//
// The format is read from its specification, vma_spec.txt in Proxmox's pve-qemu repository.
// An archive is a header (magic "VMA\x00", version 1, a UUID, a timestamp, an MD5 of the header,
// a blob buffer holding configuration file names and contents and device names, and a table of
// up to 255 devices with their sizes) followed by extents. Each extent has a 512-byte header
// (magic "VMAE", block_count, the archive UUID, an MD5 of the extent header, 59 blockinfo slots)
// followed by the non-zero 4 KiB blocks of up to 59 64 KiB clusters. A blockinfo slot names a
// device, a cluster number and a 16-bit mask of the cluster's non-zero blocks.
//
// NewReader reads and validates the header; Reader.Next returns one Cluster at a time, with zero
// blocks filled in inside a single reused 64 KiB buffer, and clusters stored with mask 0 reported
// by Cluster.Zero with no data. Next returns io.EOF when the input ends exactly at an extent
// boundary.
//
// Reader.Disk picks the device to convert: the archive's only disk device (every device but
// "vmstate"), or the one named; no disk, or several and no name, is a *DiskChoiceError
// (errors.Is ErrDiskChoice) listing the devices by ID and name. A converter then keeps the
// clusters of that device and skips the others' (NixOS's proxmox image has one disk).
//
// Validated: header magic, version 1, header_size (a multiple of 512, at least 12288, at most
// 16 MiB), the header MD5 (computed with the md5sum field zeroed, over header_size bytes), that
// the blob buffer lies inside the header, that every config name, config data and device name
// offset names a blob (names NUL-terminated), device sizes positive; per extent: magic, the MD5
// of the 512-byte header (md5sum field zeroed), the UUID equal to the header's, block_count equal
// to the number of mask bits of the used slots, every dev_id in the device table, every cluster
// starting inside its device. A violation is a *FormatError naming the stream offset and the
// field; a stream that ends early wraps io.ErrUnexpectedEOF.
//
// Memory: the header (at most header_size bytes, read once), one 512-byte extent header and one
// 64 KiB cluster buffer, whatever the image size; the data is never buffered beyond that.
//
// The tests build their archives with internal/vmagen, a streaming writer to the same
// specification that shares no code with this reader.
//
// Choices the specification leaves open, settled from the C reference
// (debian/patches/pve/0026-PVE-Backup-add-vma-backup-format-code.patch, vma-reader.c):
//   - blob sizes are 2 bytes little-endian, although the specification says all numbers are big
//     endian; blob positions are relative to blob_buffer_offset and the first blob is at 1
//     (position 0 means "none");
//   - blockinfo is one big-endian 64-bit word: mask in bits 48..63, dev_id in bits 32..39,
//     cluster number in bits 0..31 (the byte table of the specification, not its introduction,
//     which lists dev_id first); a slot with dev_id 0 is unused;
//   - strings (config names, device names) are NUL-terminated in their blobs;
//   - the specification's introduction says "up to 64 clusters" per extent; the header layout
//     and the C code say 59, which is what is read.
//
// Choices of this package, not from either source:
//   - a config slot is used when its name or data offset is non-zero; a device slot when its name
//     offset or size is non-zero;
//   - duplicate clusters and vmstate ordering (checked by the C restore code) are not checked: a
//     consumer writing to a disk image sees the last write win;
//   - the last cluster of a device may extend past its size; Data is always 64 KiB and the
//     consumer clips it to Device.Size;
//   - the "vmstate" device is reported like any other device.
package vma
