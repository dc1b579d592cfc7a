package vma

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func pattern(seed byte, nonZeroBlocks ...int) []byte {
	c := make([]byte, ClusterSize)
	for _, b := range nonZeroBlocks {
		for i := 0; i < BlockSize; i++ {
			c[b*BlockSize+i] = seed + byte(i%251) + 1
		}
	}
	return c
}

// readAll reconstructs each device's image from the stream.
func readAll(t *testing.T, data []byte) (*Reader, map[uint8][]byte, int) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	imgs := map[uint8][]byte{}
	for _, d := range r.Devices() {
		imgs[d.ID] = make([]byte, d.Size)
	}
	zero := 0
	for {
		c, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if c.Zero() {
			require.Nil(t, c.Data)
			zero++
			continue
		}
		copy(imgs[c.Device][c.Offset:], c.Data)
	}
	return r, imgs, zero
}

func sample() ([]Config, []testDev) {
	configs := []Config{{Name: "qemu-server.conf", Data: []byte("memory: 1024\n")}, {Name: "fw.conf", Data: []byte("[OPTIONS]\n")}}
	devs := []testDev{
		{name: "drive-scsi0", size: 10 * ClusterSize, clusters: map[uint32][]byte{0: pattern(1, 0, 1, 15), 3: pattern(2, 7), 9: pattern(3, 0)}, zeroes: []uint32{5}},
		{name: "drive-efidisk0", size: 3*ClusterSize + 4096, clusters: map[uint32][]byte{3: pattern(4, 0)}},
	}
	return configs, devs
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		configs []Config
		devs    []testDev
		zeroes  int
	}{
		{name: "multi-device sparse with configs", zeroes: 1},
		{name: "no data", devs: []testDev{{name: "drive-virtio0", size: 1 << 30}}},
		{name: "more than one extent", devs: func() []testDev {
			d := testDev{name: "drive-scsi0", size: 200 * ClusterSize, clusters: map[uint32][]byte{}}
			for i := uint32(0); i < 130; i++ {
				d.clusters[i] = pattern(byte(i), int(i%16))
			}
			return []testDev{d}
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.devs == nil {
				tt.configs, tt.devs = sample()
			}
			r, imgs, zero := readAll(t, buildVMA(t, tt.configs, tt.devs))
			require.Equal(t, tt.zeroes, zero)
			require.Equal(t, testUUID, r.Header().UUID)
			require.Equal(t, int64(1700000000), r.Header().CTime.Unix())
			require.Equal(t, tt.configs, r.Configs())
			require.Len(t, r.Devices(), len(tt.devs))
			for i, d := range tt.devs {
				got := r.Devices()[i]
				require.Equal(t, Device{ID: uint8(i + 1), Name: d.name, Size: d.size}, got)
				want := make([]byte, d.size)
				for n, c := range d.clusters {
					copy(want[int64(n)*ClusterSize:], c)
				}
				require.True(t, bytes.Equal(want, imgs[got.ID]), "device %d content differs", got.ID)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	configs, devs := sample()
	good := buildVMA(t, configs, devs)
	r, err := NewReader(bytes.NewReader(good))
	require.NoError(t, err)
	hsize := int(r.Header().HeaderSize)
	mutate := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	// reseal recomputes the first extent header's checksum after a change to it.
	reseal := func(f func(e []byte)) []byte {
		return mutate(func(b []byte) {
			e := b[hsize : hsize+ExtentHeaderSize]
			f(e)
			clear(e[24:40])
			s := md5.Sum(e)
			copy(e[24:40], s[:])
		})
	}
	// resealHeader recomputes the header checksum after a change to the header.
	resealHeader := func(f func(h []byte)) []byte {
		return mutate(func(b []byte) {
			h := b[:hsize]
			f(h)
			clear(h[32:48])
			s := md5.Sum(h)
			copy(h[32:48], s[:])
		})
	}
	tests := []struct {
		name      string
		data      []byte
		field     string
		offset    int64
		unexpEOF  bool
		atNewRead bool // error from NewReader rather than Next
	}{
		{name: "empty", data: nil, field: "header", offset: 0, unexpEOF: true, atNewRead: true},
		{name: "truncated fixed header", data: good[:30], field: "header", offset: 30, unexpEOF: true, atNewRead: true},
		{name: "truncated header", data: good[:5000], field: "header", offset: 5000, unexpEOF: true, atNewRead: true},
		{name: "truncated extent header", data: good[:hsize+100], field: "extent header", offset: int64(hsize + 100), unexpEOF: true},
		{name: "truncated extent data", data: good[:hsize+512+4096+10], field: "extent data", offset: int64(hsize + 512 + 4096 + 10), unexpEOF: true},
		{name: "truncated before last block", data: good[:len(good)-BlockSize], field: "extent data", offset: int64(len(good) - BlockSize), unexpEOF: true},
		{name: "header magic", data: mutate(func(b []byte) { b[1] = 'X' }), field: "header.magic", offset: 0, atNewRead: true},
		{name: "header md5", data: mutate(func(b []byte) { b[3000] ^= 1 }), field: "header.md5sum", offset: 32, atNewRead: true},
		{name: "header version", data: mutate(func(b []byte) { b[7] = 2 }), field: "header.version", offset: 4, atNewRead: true},
		{name: "header size not a multiple of 512", data: mutate(func(b []byte) { b[59]++ }), field: "header.header_size", offset: 56, atNewRead: true},
		{name: "blob buffer outside the header", data: resealHeader(func(h []byte) { h[52] = 0x7f }), field: "header.blob_buffer_offset", offset: 48, atNewRead: true},
		{name: "device name not a blob", data: resealHeader(func(h []byte) { h[4096+32+3] = 2 }), field: "header.dev_info[1].devname", offset: 4096 + 32, atNewRead: true},
		{name: "device size zero", data: resealHeader(func(h []byte) { clear(h[4096+32+8 : 4096+32+16]) }), field: "header.dev_info[1].size", offset: 4096 + 32 + 8, atNewRead: true},
		{name: "extent magic", data: mutate(func(b []byte) { b[hsize] = 'X' }), field: "extent.magic", offset: int64(hsize)},
		{name: "extent md5", data: mutate(func(b []byte) { b[hsize+45] ^= 1 }), field: "extent.md5sum", offset: int64(hsize + 24)},
		{name: "extent block_count", data: reseal(func(e []byte) { e[7]++ }), field: "extent.block_count", offset: int64(hsize + 6)},
		{name: "extent unknown device", data: reseal(func(e []byte) { e[40+3] = 9 }), field: "extent.blockinfo[0]", offset: int64(hsize + 40)},
		{name: "extent cluster beyond device", data: reseal(func(e []byte) { e[40+7] = 200 }), field: "extent.blockinfo[0]", offset: int64(hsize + 40)},
		{name: "extent uuid", data: reseal(func(e []byte) { e[8] ^= 1 }), field: "extent.uuid", offset: int64(hsize + 8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data))
			if !tt.atNewRead {
				require.NoError(t, err)
				for err == nil {
					_, err = r.Next()
				}
			}
			require.Error(t, err)
			var fe *FormatError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.field, fe.Field)
			require.Equal(t, tt.offset, fe.Offset)
			require.Equal(t, tt.unexpEOF, errors.Is(err, io.ErrUnexpectedEOF), "error: %v", err)
			require.NotErrorIs(t, err, io.EOF)
		})
	}
}
