package vma

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// Format constants from vma_spec.txt.
const (
	// BlockSize is the unit of sparseness: only non-zero 4 KiB blocks are stored.
	BlockSize = 4096
	// ClusterSize is the unit of a write: 16 blocks.
	ClusterSize = 65536
	// ExtentHeaderSize is the size of an extent header.
	ExtentHeaderSize = 512
	// ClustersPerExtent is the number of blockinfo slots in an extent header.
	ClustersPerExtent = 59
	// MaxExtentSize is the largest extent the format allows (header plus 59 full clusters).
	MaxExtentSize = ExtentHeaderSize + ClustersPerExtent*ClusterSize

	headerFixedSize = 12288
	maxHeaderSize   = 16 << 20 // refuse absurd headers before allocating them
)

var (
	headerMagic = []byte("VMA\x00")
	extentMagic = []byte("VMAE")
)

// FormatError reports a stream that does not follow the VMA specification.
type FormatError struct {
	Offset  int64  // byte offset in the stream of the field
	Field   string // the field, e.g. "header.md5sum", "extent.block_count"
	Problem string // what is wrong and what was expected
	Err     error  // underlying error, e.g. io.ErrUnexpectedEOF; may be nil
}

// Error describes the field, its stream offset and the problem.
func (e *FormatError) Error() string {
	s := fmt.Sprintf("vma: offset %d: %s: %s", e.Offset, e.Field, e.Problem)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// Header holds the archive header fields.
type Header struct {
	Version    uint32
	UUID       [16]byte
	CTime      time.Time
	HeaderSize uint32
}

// Config is one configuration file stored in the header (e.g. "qemu-server.conf").
type Config struct {
	Name string
	Data []byte
}

// Device is one disk image (or "vmstate") in the archive.
type Device struct {
	ID   uint8 // 1..255, used as dev_id in extents
	Name string
	Size int64 // bytes
}

// Cluster is one 64 KiB cluster write of a device, as Next returns it.
type Cluster struct {
	Device uint8  // dev_id
	Offset int64  // byte offset in the device: cluster number * ClusterSize
	Mask   uint16 // bit i set: 4 KiB block i is stored (non-zero); clear: the block is zero
	// Data is the cluster with zero blocks filled in, ClusterSize bytes, or nil when Mask is 0
	// (an all-zero cluster). It is only valid until the next call to Next.
	Data []byte
}

// Zero reports whether the whole cluster is zero.
func (c Cluster) Zero() bool { return c.Mask == 0 }

// Reader reads a VMA stream sequentially.
type Reader struct {
	r       io.Reader
	off     int64
	hdr     Header
	configs []Config
	devs    []Device
	devByID [256]*Device

	ext     [ExtentHeaderSize]byte
	extOff  int64
	slot    int // next blockinfo slot in ext; ClustersPerExtent: read a new extent
	remain  int // blocks of the current extent not yet consumed
	cluster []byte
	err     error
}

// NewReader reads and validates the VMA header from r.
func NewReader(r io.Reader) (*Reader, error) {
	vr := &Reader{r: r, slot: ClustersPerExtent, cluster: make([]byte, ClusterSize)}
	if err := vr.readHeader(); err != nil {
		return nil, err
	}
	return vr, nil
}

// Header returns the archive header.
func (vr *Reader) Header() Header { return vr.hdr }

// Configs returns the configuration files, in header order.
func (vr *Reader) Configs() []Config { return vr.configs }

// Devices returns the devices, ordered by ID.
func (vr *Reader) Devices() []Device { return vr.devs }

func (vr *Reader) readFull(p []byte, field, expect string) error {
	n, err := io.ReadFull(vr.r, p)
	start := vr.off
	vr.off += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return &FormatError{Offset: start + int64(n), Field: field,
			Problem: fmt.Sprintf("stream ends after %d of %d bytes of %s", n, len(p), expect), Err: err}
	}
	return nil
}

func (vr *Reader) readHeader() error {
	fixed := make([]byte, headerFixedSize)
	if err := vr.readFull(fixed[:60], "header", "the fixed header"); err != nil {
		return err
	}
	if !bytes.Equal(fixed[0:4], headerMagic) {
		return &FormatError{Offset: 0, Field: "header.magic", Problem: fmt.Sprintf("got %q, want %q: not a VMA archive", fixed[0:4], headerMagic)}
	}
	be := binary.BigEndian
	if v := be.Uint32(fixed[4:8]); v != 1 {
		return &FormatError{Offset: 4, Field: "header.version", Problem: fmt.Sprintf("got %d, want 1 (the only version the specification defines)", v)}
	}
	hsize := be.Uint32(fixed[56:60])
	if hsize < headerFixedSize || hsize%512 != 0 || hsize > maxHeaderSize {
		return &FormatError{Offset: 56, Field: "header.header_size", Problem: fmt.Sprintf("got %d, want a multiple of 512 in [%d, %d]", hsize, headerFixedSize, maxHeaderSize)}
	}
	h := make([]byte, hsize)
	copy(h, fixed[:60])
	if err := vr.readFull(h[60:], "header", fmt.Sprintf("the %d-byte header", hsize)); err != nil {
		return err
	}
	var want [16]byte
	copy(want[:], h[32:48])
	clear(h[32:48])
	if got := md5.Sum(h); got != want {
		return &FormatError{Offset: 32, Field: "header.md5sum", Problem: fmt.Sprintf("header checksum mismatch: stored %x, computed %x over bytes 0..%d", want, got, hsize)}
	}
	copy(h[32:48], want[:])
	vr.hdr = Header{Version: 1, CTime: time.Unix(int64(be.Uint64(h[24:32])), 0).UTC(), HeaderSize: hsize}
	copy(vr.hdr.UUID[:], h[8:24])

	boff, bsize := be.Uint32(h[48:52]), be.Uint32(h[52:56])
	if boff < headerFixedSize || uint64(boff)+uint64(bsize) > uint64(hsize) {
		return &FormatError{Offset: 48, Field: "header.blob_buffer_offset", Problem: fmt.Sprintf("blob buffer [%d, +%d) is not inside [%d, %d)", boff, bsize, headerFixedSize, hsize)}
	}
	blobs := parseBlobs(h[boff : boff+bsize])
	str := func(ptr uint32, field string, at int64) (string, error) {
		b, ok := blobs[ptr]
		if !ok || len(b) == 0 || b[len(b)-1] != 0 {
			return "", &FormatError{Offset: at, Field: field, Problem: fmt.Sprintf("offset %d does not name a NUL-terminated blob in the blob buffer", ptr)}
		}
		return string(b[:len(b)-1]), nil
	}
	for i := 0; i < 256; i++ {
		np, dp := be.Uint32(h[2044+4*i:]), be.Uint32(h[3068+4*i:])
		if np == 0 && dp == 0 {
			continue
		}
		name, err := str(np, fmt.Sprintf("header.config_names[%d]", i), int64(2044+4*i))
		if err != nil {
			return err
		}
		data, ok := blobs[dp]
		if !ok {
			return &FormatError{Offset: int64(3068 + 4*i), Field: fmt.Sprintf("header.config_data[%d]", i), Problem: fmt.Sprintf("offset %d does not name a blob in the blob buffer", dp)}
		}
		vr.configs = append(vr.configs, Config{Name: name, Data: bytes.Clone(data)})
	}
	for id := 1; id < 256; id++ {
		at := 4096 + 32*id
		np, size := be.Uint32(h[at:]), be.Uint64(h[at+8:])
		if np == 0 && size == 0 {
			continue
		}
		name, err := str(np, fmt.Sprintf("header.dev_info[%d].devname", id), int64(at))
		if err != nil {
			return err
		}
		if size == 0 || size > 1<<62 {
			return &FormatError{Offset: int64(at + 8), Field: fmt.Sprintf("header.dev_info[%d].size", id), Problem: fmt.Sprintf("got %d, want a positive size", size)}
		}
		vr.devs = append(vr.devs, Device{ID: uint8(id), Name: name, Size: int64(size)})
	}
	for i := range vr.devs {
		vr.devByID[vr.devs[i].ID] = &vr.devs[i]
	}
	return nil
}

// parseBlobs indexes the blob buffer as the C reference does: positions are relative to
// the buffer, the first blob starts at position 1, sizes are 2 bytes little-endian.
func parseBlobs(buf []byte) map[uint32][]byte {
	m := map[uint32][]byte{}
	for pos := 1; pos+2 <= len(buf); {
		size := int(binary.LittleEndian.Uint16(buf[pos:]))
		if pos+2+size > len(buf) {
			break
		}
		m[uint32(pos)] = buf[pos+2 : pos+2+size]
		pos += 2 + size
	}
	return m
}

// Next returns the next cluster write. It returns io.EOF at the clean end of the stream
// (end of input exactly at an extent boundary) and a *FormatError otherwise.
func (vr *Reader) Next() (Cluster, error) {
	if vr.err != nil {
		return Cluster{}, vr.err
	}
	c, err := vr.next()
	if err != nil {
		vr.err = err
	}
	return c, err
}

func (vr *Reader) next() (Cluster, error) {
	be := binary.BigEndian
	for {
		for vr.slot < ClustersPerExtent {
			i := vr.slot
			vr.slot++
			bi := vr.ext[40+8*i : 48+8*i]
			mask, dev, num := be.Uint16(bi[0:2]), bi[3], be.Uint32(bi[4:8])
			if dev == 0 {
				continue
			}
			at := vr.extOff + int64(40+8*i)
			d := vr.devByID[dev]
			if d == nil {
				return Cluster{}, &FormatError{Offset: at, Field: blockinfoField(i), Problem: fmt.Sprintf("dev_id %d is not in the header's device list", dev)}
			}
			c := Cluster{Device: dev, Offset: int64(num) * ClusterSize, Mask: mask}
			if c.Offset >= d.Size {
				return Cluster{}, &FormatError{Offset: at, Field: blockinfoField(i), Problem: fmt.Sprintf("cluster %d lies beyond the end of device %d %q (%d bytes)", num, dev, d.Name, d.Size)}
			}
			if mask == 0 {
				return c, nil
			}
			for b := 0; b < 16; b++ {
				blk := vr.cluster[b*BlockSize : (b+1)*BlockSize]
				if mask&(1<<b) == 0 {
					clear(blk)
					continue
				}
				if vr.remain == 0 {
					return Cluster{}, &FormatError{Offset: vr.extOff + 6, Field: "extent.block_count", Problem: "the blockinfo masks name more blocks than block_count"}
				}
				vr.remain--
				if n, err := io.ReadFull(vr.r, blk); err != nil {
					if errors.Is(err, io.EOF) {
						err = io.ErrUnexpectedEOF
					}
					vr.off += int64(n)
					return Cluster{}, &FormatError{Offset: vr.off, Field: "extent data",
						Problem: fmt.Sprintf("stream ends after %d of %d bytes of block %d of cluster %d of device %d", n, BlockSize, b, num, dev), Err: err}
				}
				vr.off += BlockSize
			}
			c.Data = vr.cluster
			return c, nil
		}
		if vr.remain != 0 {
			return Cluster{}, &FormatError{Offset: vr.extOff + 6, Field: "extent.block_count", Problem: fmt.Sprintf("block_count exceeds the blocks the masks name by %d", vr.remain)}
		}
		if err := vr.readExtentHeader(); err != nil {
			return Cluster{}, err
		}
	}
}

func blockinfoField(i int) string { return fmt.Sprintf("extent.blockinfo[%d]", i) }

func (vr *Reader) readExtentHeader() error {
	vr.extOff = vr.off
	n, err := io.ReadFull(vr.r, vr.ext[:])
	vr.off += int64(n)
	if n == 0 && errors.Is(err, io.EOF) {
		return io.EOF
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return &FormatError{Offset: vr.off, Field: "extent header", Problem: fmt.Sprintf("stream ends after %d of %d bytes of an extent header", n, ExtentHeaderSize), Err: err}
	}
	e := vr.ext[:]
	if !bytes.Equal(e[0:4], extentMagic) {
		return &FormatError{Offset: vr.extOff, Field: "extent.magic", Problem: fmt.Sprintf("got %q, want %q", e[0:4], extentMagic)}
	}
	var want [16]byte
	copy(want[:], e[24:40])
	clear(e[24:40])
	got := md5.Sum(e)
	copy(e[24:40], want[:])
	if got != want {
		return &FormatError{Offset: vr.extOff + 24, Field: "extent.md5sum", Problem: fmt.Sprintf("extent header checksum mismatch: stored %x, computed %x", want, got)}
	}
	if !bytes.Equal(e[8:24], vr.hdr.UUID[:]) {
		return &FormatError{Offset: vr.extOff + 8, Field: "extent.uuid", Problem: fmt.Sprintf("got %x, want the header's %x", e[8:24], vr.hdr.UUID)}
	}
	count := int(binary.BigEndian.Uint16(e[6:8]))
	if count > ClustersPerExtent*16 {
		return &FormatError{Offset: vr.extOff + 6, Field: "extent.block_count", Problem: fmt.Sprintf("got %d, want at most %d", count, ClustersPerExtent*16)}
	}
	sum := 0
	for i := 0; i < ClustersPerExtent; i++ {
		bi := e[40+8*i : 48+8*i]
		if bi[3] != 0 {
			sum += bits.OnesCount16(binary.BigEndian.Uint16(bi[0:2]))
		}
	}
	if sum != count {
		return &FormatError{Offset: vr.extOff + 6, Field: "extent.block_count", Problem: fmt.Sprintf("got %d, but the blockinfo masks name %d blocks", count, sum)}
	}
	vr.remain = count
	vr.slot = 0
	return nil
}
