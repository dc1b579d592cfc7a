package vma

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"testing"
)

// testDev describes one device for buildVMA: its size and its contents by cluster number.
type testDev struct {
	name     string
	size     int64
	clusters map[uint32][]byte // ClusterSize bytes each; zero 4 KiB blocks are left out as the spec says
	zeroes   []uint32          // clusters recorded with mask 0
}

var testUUID = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// buildVMA writes a VMA stream to the specification (blob sizes little-endian and blob positions
// starting at 1, as the C reference writer does).
func buildVMA(t testing.TB, configs []Config, devs []testDev) []byte {
	t.Helper()
	be := binary.BigEndian
	var blob bytes.Buffer
	blob.WriteByte(0)
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
		be.PutUint32(h[at:], add(append([]byte(d.name), 0)))
		be.PutUint64(h[at+8:], uint64(d.size))
	}
	bsize := (blob.Len() + 511) / 512 * 512
	h = append(h, make([]byte, bsize)...)
	copy(h[headerFixedSize:], blob.Bytes())
	copy(h[0:4], headerMagic)
	be.PutUint32(h[4:8], 1)
	copy(h[8:24], testUUID[:])
	be.PutUint64(h[24:32], 1700000000)
	be.PutUint32(h[48:52], headerFixedSize)
	be.PutUint32(h[52:56], uint32(bsize))
	be.PutUint32(h[56:60], uint32(len(h)))
	sum := md5.Sum(h)
	copy(h[32:48], sum[:])

	type item struct {
		dev  uint8
		num  uint32
		data []byte
	}
	var items []item
	for i, d := range devs {
		for _, z := range d.zeroes {
			items = append(items, item{uint8(i + 1), z, nil})
		}
		for n := uint32(0); int64(n)*ClusterSize < d.size; n++ {
			if c, ok := d.clusters[n]; ok {
				items = append(items, item{uint8(i + 1), n, c})
			}
		}
	}
	out := bytes.NewBuffer(h)
	for len(items) > 0 {
		k := min(len(items), ClustersPerExtent)
		e := make([]byte, ExtentHeaderSize)
		var data bytes.Buffer
		blocks := 0
		for i, it := range items[:k] {
			var mask uint16
			for b := 0; b < 16 && it.data != nil; b++ {
				blk := it.data[b*BlockSize : (b+1)*BlockSize]
				if !bytes.Equal(blk, make([]byte, BlockSize)) {
					mask |= 1 << b
					data.Write(blk)
					blocks++
				}
			}
			bi := e[40+8*i:]
			be.PutUint16(bi[0:2], mask)
			bi[3] = it.dev
			be.PutUint32(bi[4:8], it.num)
		}
		copy(e[0:4], extentMagic)
		be.PutUint16(e[6:8], uint16(blocks))
		copy(e[8:24], testUUID[:])
		s := md5.Sum(e)
		copy(e[24:40], s[:])
		out.Write(e)
		out.Write(data.Bytes())
		items = items[k:]
	}
	return out.Bytes()
}
