// Package vmagen writes VMA archives for tests and benchmarks, to the
// specification (vma_spec.txt in Proxmox's pve-qemu repository) and the C
// reference writer's choices: blob sizes 2 bytes little-endian, blob
// positions relative to the blob buffer starting at 1, 59 clusters per
// extent, zero 4 KiB blocks left out and named by the cluster's mask.
//
// Writer streams: it holds one extent (at most 59 clusters, 3.7 MiB) and
// writes it when full or at Close, so a multi-gigabyte archive is never in
// memory. It is independent of lib/vma (it shares no code with the reader
// it exercises).
package vmagen
