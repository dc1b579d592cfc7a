package diskimage

import (
	"encoding/binary"
	"fmt"
	"io"
)

const (
	clusterBits = 16
	clusterSize = 1 << clusterBits
	// l2Entries is the number of 8-byte entries in one L2 table cluster.
	l2Entries = clusterSize / 8
)

// QCOW2Option changes the image WriteQCOW2 writes.
type QCOW2Option func(*qcow2Options)

type qcow2Options struct {
	dataFile string
}

// WithDataFile makes the image refer to an external data file (the name is
// stored as given; qemu opens a relative one from its working directory)
// that holds its data, as
// `qemu-img create -o data_file=<name>` does. Such an image holds only
// metadata, so WriteQCOW2 then takes no payload. Proxmox refuses images
// like this for import.
func WithDataFile(name string) QCOW2Option {
	return func(o *qcow2Options) { o.dataFile = name }
}

// WriteQCOW2 writes a valid qcow2 (version 3) image with the given virtual
// size whose first len(payload) bytes read as payload and the rest as zeros.
// `qemu-img check` finds it clean. The file holds the header, one refcount
// table and block, the L1 table, the L2 tables the payload needs and the
// payload's clusters, so its size grows with the payload.
func WriteQCOW2(w io.Writer, virtualSize int64, payload []byte, opts ...QCOW2Option) (int64, error) {
	var o qcow2Options
	for _, opt := range opts {
		opt(&o)
	}
	if virtualSize <= 0 || virtualSize%512 != 0 || int64(len(payload)) > virtualSize {
		return 0, fmt.Errorf("qcow2: virtual size %d must be a positive multiple of 512 that holds the %d-byte payload", virtualSize, len(payload))
	}
	if o.dataFile != "" && (len(payload) > 0 || len(o.dataFile) > 1024) {
		return 0, fmt.Errorf("qcow2: an image with the external data file %q takes no payload and a name of at most 1024 bytes (the data belongs in the data file)", o.dataFile)
	}
	perL2 := int64(l2Entries) * clusterSize
	l1Size := (virtualSize + perL2 - 1) / perL2
	if l1Size*8 > clusterSize {
		return 0, fmt.Errorf("qcow2: virtual size %d needs more than one L1 cluster", virtualSize)
	}
	dataClusters := (int64(len(payload)) + clusterSize - 1) / clusterSize
	l2Tables := (dataClusters + l2Entries - 1) / l2Entries
	// Layout in clusters: 0 header, 1 refcount table, 2 refcount block,
	// 3 L1 table, then the L2 tables, then the data clusters.
	const refTable, refBlock, l1Table = 1, 2, 3
	firstL2 := int64(4)
	firstData := firstL2 + l2Tables
	total := firstData + dataClusters
	if total > clusterSize/2 {
		return 0, fmt.Errorf("qcow2: payload of %d bytes needs more than one refcount block", len(payload))
	}

	be := binary.BigEndian
	img := make([]byte, firstData*clusterSize)
	h := img[:104]
	copy(h, qcow2Magic)
	be.PutUint32(h[4:], 3)            // version
	be.PutUint32(h[20:], clusterBits) // cluster_bits
	be.PutUint64(h[24:], uint64(virtualSize))
	be.PutUint32(h[36:], uint32(l1Size)) // l1_size
	be.PutUint64(h[40:], l1Table*clusterSize)
	be.PutUint64(h[48:], refTable*clusterSize)
	be.PutUint32(h[56:], 1)    // refcount_table_clusters
	be.PutUint32(h[96:], 4)    // refcount_order: 16-bit refcounts
	be.PutUint32(h[100:], 104) // header_length
	if o.dataFile != "" {
		be.PutUint64(h[72:], qcow2IncompatDataFile) // incompatible_features
		ext := img[104:]
		be.PutUint32(ext, qcow2ExtDataFile)
		be.PutUint32(ext[4:], uint32(len(o.dataFile)))
		copy(ext[8:], o.dataFile) // padded to 8 bytes, then the end marker: zeros
	}
	be.PutUint64(img[refTable*clusterSize:], refBlock*clusterSize)
	for c := int64(0); c < total; c++ {
		be.PutUint16(img[refBlock*clusterSize+2*c:], 1)
	}
	const copied = uint64(1) << 63 // QCOW_OFLAG_COPIED: refcount is exactly 1
	for t := int64(0); t < l2Tables; t++ {
		be.PutUint64(img[l1Table*clusterSize+8*t:], uint64((firstL2+t)*clusterSize)|copied)
	}
	for d := int64(0); d < dataClusters; d++ {
		entry := (firstL2+d/l2Entries)*clusterSize + 8*(d%l2Entries)
		be.PutUint64(img[entry:], uint64((firstData+d)*clusterSize)|copied)
	}
	n, err := w.Write(img)
	written := int64(n)
	if err != nil {
		return written, err
	}
	for d := int64(0); d < dataClusters; d++ {
		chunk := make([]byte, clusterSize)
		copy(chunk, payload[d*clusterSize:])
		n, err := w.Write(chunk)
		written += int64(n)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}
