package diskimage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ClusterSize is the cluster size of the qcow2 images this package writes
// (cluster_bits 16), equal to a VMA cluster.
const ClusterSize = clusterSize

// ErrClosed is returned by a SparseQCOW2 used after Close.
var ErrClosed = errors.New("qcow2: writer is closed")

// copiedFlag is QCOW_OFLAG_COPIED (bit 63 of L1 and L2 entries): the
// cluster's refcount is exactly one, which holds for every cluster written here.
const copiedFlag = uint64(1) << 63

// refcountsPerBlock is the number of 16-bit refcounts in one refcount block.
const refcountsPerBlock = clusterSize / 2

// SparseQCOW2 writes a sparse qcow2 (version 3, 64 KiB clusters, 16-bit
// refcounts) onto a seekable file as its clusters arrive, in any order.
// Clusters never written read as zeros and take no space. Data clusters are
// appended in arrival order from the second cluster on; the header, L2
// tables, L1 table and refcount table and blocks are written by Close.
//
// Memory: one host cluster number (4 bytes) per guest cluster, kept only
// for the 512 MiB ranges (one L2 table each) that hold data, plus one
// 64 KiB buffer — never the data. Every cluster of the file has refcount
// one, so refcounts take no memory until Close writes them.
type SparseQCOW2 struct {
	w           io.WriteSeeker
	virtualSize int64
	l1Size      int64
	// l2 maps an L1 index to its table: host cluster numbers by L2 index,
	// 0 for an unallocated cluster. nil while the range holds no data.
	l2    [][]uint32
	next  uint32 // next free host cluster number
	pos   int64  // current offset of w
	buf   []byte // one cluster: padding of a short last cluster, metadata at Close
	data  int64  // data clusters written
	size  int64  // file size after Close
	state int    // 0 writing, 1 closed, 2 failed
}

// NewSparseQCOW2 starts a qcow2 image of the given virtual size (a positive
// multiple of 512) on w, which must be empty and positioned at its start.
func NewSparseQCOW2(w io.WriteSeeker, virtualSize int64) (*SparseQCOW2, error) {
	if virtualSize <= 0 || virtualSize%512 != 0 {
		return nil, fmt.Errorf("qcow2: virtual size %d must be a positive multiple of 512", virtualSize)
	}
	perL2 := int64(l2Entries) * clusterSize
	q := &SparseQCOW2{w: w, virtualSize: virtualSize, l1Size: (virtualSize + perL2 - 1) / perL2, next: 1, buf: make([]byte, clusterSize)}
	if q.l1Size > 1<<22 {
		return nil, fmt.Errorf("qcow2: virtual size %d needs an L1 table of %d entries, more than qemu's 32 MiB limit", virtualSize, q.l1Size)
	}
	q.l2 = make([][]uint32, q.l1Size)
	// Cluster 0 is the header, written by Close; reserve it.
	if err := q.writeAt(0, q.buf); err != nil {
		return nil, err
	}
	return q, nil
}

// VirtualSize returns the disk size the guest sees.
func (q *SparseQCOW2) VirtualSize() int64 { return q.virtualSize }

// DataClusters returns the number of data clusters written so far.
func (q *SparseQCOW2) DataClusters() int64 { return q.data }

// Size returns the file size Close left (0 before Close).
func (q *SparseQCOW2) Size() int64 { return q.size }

func (q *SparseQCOW2) writeAt(off int64, p []byte) error {
	if off != q.pos {
		if _, err := q.w.Seek(off, io.SeekStart); err != nil {
			q.state = 2
			return fmt.Errorf("qcow2: seek to %d: %w", off, err)
		}
		q.pos = off
	}
	n, err := q.w.Write(p)
	q.pos += int64(n)
	if err != nil {
		q.state = 2
		return fmt.Errorf("qcow2: write %d bytes at %d: %w", len(p), off, err)
	}
	return nil
}

func (q *SparseQCOW2) usable() error {
	switch q.state {
	case 1:
		return ErrClosed
	case 2:
		return errors.New("qcow2: writer failed earlier; the image is incomplete")
	}
	return nil
}

// locate checks a guest offset and returns its L1 and L2 indexes.
func (q *SparseQCOW2) locate(off int64) (int64, int64, error) {
	if off < 0 || off%clusterSize != 0 || off >= q.virtualSize {
		return 0, 0, fmt.Errorf("qcow2: guest offset %d is not a cluster boundary inside the %d-byte disk", off, q.virtualSize)
	}
	c := off / clusterSize
	return c / l2Entries, c % l2Entries, nil
}

// WriteCluster writes one guest cluster: data (ClusterSize bytes, or fewer
// for the rest of the cluster reading as zeros) at guest offset off, a
// multiple of ClusterSize below the virtual size. Bytes past the virtual
// size are written as zeros. A cluster written twice keeps its host cluster
// and the last data.
func (q *SparseQCOW2) WriteCluster(off int64, data []byte) error {
	if err := q.usable(); err != nil {
		return err
	}
	i1, i2, err := q.locate(off)
	if err != nil {
		return err
	}
	if len(data) > clusterSize {
		return fmt.Errorf("qcow2: %d bytes for the cluster at guest offset %d, more than a cluster (%d)", len(data), off, clusterSize)
	}
	if keep := q.virtualSize - off; len(data) < clusterSize || keep < clusterSize {
		n := copy(q.buf, data[:min(int64(len(data)), keep)])
		clear(q.buf[n:])
		data = q.buf
	}
	t := q.l2[i1]
	if t == nil {
		t = make([]uint32, l2Entries)
		q.l2[i1] = t
	}
	host := t[i2]
	if host == 0 {
		if q.next == 1<<32-1 {
			return fmt.Errorf("qcow2: image file exceeds %d clusters", uint32(1<<32-1))
		}
		host = q.next
		q.next++
		t[i2] = host
		q.data++
	}
	return q.writeAt(int64(host)*clusterSize, data)
}

// ZeroCluster marks the guest cluster at off as zero. A cluster never
// written already reads as zeros and costs nothing; one written before is
// overwritten with zeros in place.
func (q *SparseQCOW2) ZeroCluster(off int64) error {
	if err := q.usable(); err != nil {
		return err
	}
	i1, i2, err := q.locate(off)
	if err != nil {
		return err
	}
	if q.l2[i1] == nil || q.l2[i1][i2] == 0 {
		return nil
	}
	clear(q.buf)
	return q.writeAt(int64(q.l2[i1][i2])*clusterSize, q.buf)
}

// Close writes the metadata after the data clusters — the L2 tables, the L1
// table, the refcount blocks and the refcount table — and then the header
// into cluster 0. It does not close w. The file is a valid image only after
// Close returns nil.
func (q *SparseQCOW2) Close() error {
	if err := q.usable(); err != nil {
		return err
	}
	be := binary.BigEndian
	l2Tables := int64(0)
	for _, t := range q.l2 {
		if t != nil {
			l2Tables++
		}
	}
	firstL2 := int64(q.next)
	l1Table := firstL2 + l2Tables
	l1Clusters := (q.l1Size*8 + clusterSize - 1) / clusterSize
	// The refcount blocks and table cover every cluster including
	// themselves: grow them until they do.
	refBlock := l1Table + l1Clusters
	blocks, tableClusters := int64(1), int64(1)
	for {
		total := refBlock + blocks + tableClusters
		nb := (total + refcountsPerBlock - 1) / refcountsPerBlock
		nt := (nb*8 + clusterSize - 1) / clusterSize
		if nb == blocks && nt == tableClusters {
			break
		}
		blocks, tableClusters = nb, nt
	}
	refTable := refBlock + blocks
	total := refTable + tableClusters

	// L2 tables, in L1 order.
	l1 := make([]byte, l1Clusters*clusterSize)
	at := firstL2
	for i, t := range q.l2 {
		if t == nil {
			continue
		}
		clear(q.buf)
		for j, host := range t {
			if host != 0 {
				be.PutUint64(q.buf[8*j:], uint64(host)*clusterSize|copiedFlag)
			}
		}
		if err := q.writeAt(at*clusterSize, q.buf); err != nil {
			return err
		}
		be.PutUint64(l1[8*i:], uint64(at)*clusterSize|copiedFlag)
		at++
	}
	if err := q.writeAt(l1Table*clusterSize, l1); err != nil {
		return err
	}
	// Refcount blocks: every cluster of the file is referenced once.
	for b := int64(0); b < blocks; b++ {
		clear(q.buf)
		for c := b * refcountsPerBlock; c < min(total, (b+1)*refcountsPerBlock); c++ {
			be.PutUint16(q.buf[2*(c-b*refcountsPerBlock):], 1)
		}
		if err := q.writeAt((refBlock+b)*clusterSize, q.buf); err != nil {
			return err
		}
	}
	table := make([]byte, tableClusters*clusterSize)
	for b := int64(0); b < blocks; b++ {
		be.PutUint64(table[8*b:], uint64(refBlock+b)*clusterSize)
	}
	if err := q.writeAt(refTable*clusterSize, table); err != nil {
		return err
	}
	// The header, last: a crash before here leaves no valid image.
	clear(q.buf)
	h := q.buf[:104]
	copy(h, qcow2Magic)
	be.PutUint32(h[4:], 3)
	be.PutUint32(h[20:], clusterBits)
	be.PutUint64(h[24:], uint64(q.virtualSize))
	be.PutUint32(h[36:], uint32(q.l1Size))
	be.PutUint64(h[40:], uint64(l1Table)*clusterSize)
	be.PutUint64(h[48:], uint64(refTable)*clusterSize)
	be.PutUint32(h[56:], uint32(tableClusters))
	be.PutUint32(h[96:], 4)    // refcount_order: 16-bit refcounts
	be.PutUint32(h[100:], 104) // header_length; the extension area after it is zero: its end marker
	if err := q.writeAt(0, q.buf[:clusterSize]); err != nil {
		return err
	}
	q.state, q.size = 1, total*clusterSize
	return nil
}
