package vmagen

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"io"
)

const (
	// BlockSize is the VMA block, the unit of sparseness.
	BlockSize = 4096
	// ClusterSize is the VMA cluster.
	ClusterSize = 65536
	// ClustersPerExtent is the number of blockinfo slots of an extent header.
	ClustersPerExtent = 59
	extentHeaderSize  = 512
	headerFixedSize   = 12288
)

// Config is a configuration file stored in the header.
type Config struct {
	Name string
	Data []byte
}

// Device is a device of the archive; its dev_id is its index in the list plus one.
type Device struct {
	Name string
	Size int64
}

// Writer writes a VMA archive as a stream.
type Writer struct {
	w      io.Writer
	uuid   [16]byte
	ext    [extentHeaderSize]byte
	slots  int
	blocks int
	data   bytes.Buffer
	zero   [BlockSize]byte
}

// NewWriter writes the header of an archive with the given UUID, creation
// time (Unix seconds), configuration files and devices.
func NewWriter(w io.Writer, uuid [16]byte, ctime int64, configs []Config, devs []Device) (*Writer, error) {
	if len(configs) > 256 || len(devs) > 255 {
		return nil, fmt.Errorf("vmagen: %d configs and %d devices: at most 256 and 255", len(configs), len(devs))
	}
	be := binary.BigEndian
	var blob bytes.Buffer
	blob.WriteByte(0) // position 0 means "none"
	add := func(b []byte) uint32 {
		pos := uint32(blob.Len())
		var sz [2]byte
		binary.LittleEndian.PutUint16(sz[:], uint16(len(b)))
		blob.Write(sz[:])
		blob.Write(b)
		return pos
	}
	h := make([]byte, headerFixedSize)
	for i, c := range configs {
		be.PutUint32(h[2044+4*i:], add(append([]byte(c.Name), 0)))
		be.PutUint32(h[3068+4*i:], add(c.Data))
	}
	for i, d := range devs {
		at := 4096 + 32*(i+1)
		be.PutUint32(h[at:], add(append([]byte(d.Name), 0)))
		be.PutUint64(h[at+8:], uint64(d.Size))
	}
	bsize := (blob.Len() + 511) / 512 * 512
	h = append(h, make([]byte, bsize)...)
	copy(h[headerFixedSize:], blob.Bytes())
	copy(h[0:4], "VMA\x00")
	be.PutUint32(h[4:8], 1)
	copy(h[8:24], uuid[:])
	be.PutUint64(h[24:32], uint64(ctime))
	be.PutUint32(h[48:52], headerFixedSize)
	be.PutUint32(h[52:56], uint32(bsize))
	be.PutUint32(h[56:60], uint32(len(h)))
	sum := md5.Sum(h)
	copy(h[32:48], sum[:])
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return &Writer{w: w, uuid: uuid}, nil
}

// WriteCluster adds cluster num of device dev (1-based): data is ClusterSize
// bytes, of which only the non-zero 4 KiB blocks are stored; nil records the
// cluster as all zeros (mask 0).
func (vw *Writer) WriteCluster(dev uint8, num uint32, data []byte) error {
	if data != nil && len(data) != ClusterSize {
		return fmt.Errorf("vmagen: cluster %d of device %d has %d bytes, want %d", num, dev, len(data), ClusterSize)
	}
	var mask uint16
	for b := 0; b < 16 && data != nil; b++ {
		blk := data[b*BlockSize : (b+1)*BlockSize]
		if !bytes.Equal(blk, vw.zero[:]) {
			mask |= 1 << b
			vw.data.Write(blk)
			vw.blocks++
		}
	}
	bi := vw.ext[40+8*vw.slots:]
	binary.BigEndian.PutUint16(bi[0:2], mask)
	bi[3] = dev
	binary.BigEndian.PutUint32(bi[4:8], num)
	vw.slots++
	if vw.slots == ClustersPerExtent {
		return vw.flush()
	}
	return nil
}

func (vw *Writer) flush() error {
	if vw.slots == 0 {
		return nil
	}
	e := vw.ext[:]
	copy(e[0:4], "VMAE")
	binary.BigEndian.PutUint16(e[6:8], uint16(vw.blocks))
	copy(e[8:24], vw.uuid[:])
	s := md5.Sum(e)
	copy(e[24:40], s[:])
	if _, err := vw.w.Write(e); err != nil {
		return err
	}
	if _, err := vw.w.Write(vw.data.Bytes()); err != nil {
		return err
	}
	vw.ext, vw.slots, vw.blocks = [extentHeaderSize]byte{}, 0, 0
	vw.data.Reset()
	return nil
}

// Close writes the last, partly filled extent. It does not close the
// underlying writer.
func (vw *Writer) Close() error { return vw.flush() }
