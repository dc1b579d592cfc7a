package diskimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Format is a disk image format.
type Format string

// Formats PVE's import content accepts, named by their file extension.
const (
	QCOW2 Format = "qcow2"
	Raw   Format = "raw"
	VMDK  Format = "vmdk"
	OVA   Format = "ova"
)

// Info is what inspecting an image tells.
type Info struct {
	// Format is the detected format.
	Format Format
	// VirtualSize is the disk size the guest sees, in bytes.
	VirtualSize int64
	// BackingFile is the backing file a qcow2 image refers to, if any.
	BackingFile string
	// DataFile is the external data file a qcow2 image keeps its data in
	// (its "data-file" header extension), if any.
	DataFile string
}

var (
	qcow2Magic = []byte{'Q', 'F', 'I', 0xfb}
	vmdkMagic  = []byte("KDMV")
	// ErrFormatMismatch is returned when an image is not in the format its
	// name claims.
	ErrFormatMismatch = errors.New("image is not in the expected format")
)

// Inspect reads the start of an image of the given size and checks it is in
// format want, as `qemu-img info -f <want>` does. Raw accepts anything.
func Inspect(r io.ReaderAt, size int64, want Format) (Info, error) {
	head := make([]byte, 512)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("read image header: %w", err)
	}
	head = head[:n]
	switch want {
	case QCOW2:
		return inspectQCOW2(r, head)
	case VMDK:
		if bytes.HasPrefix(head, vmdkMagic) || bytes.HasPrefix(head, []byte("# Disk DescriptorFile")) {
			return Info{Format: VMDK, VirtualSize: size}, nil
		}
		return Info{}, fmt.Errorf("%w: not a vmdk image", ErrFormatMismatch)
	case OVA:
		if len(head) >= 262 && string(head[257:262]) == "ustar" {
			return Info{Format: OVA, VirtualSize: size}, nil
		}
		return Info{}, fmt.Errorf("%w: not an OVA (tar) archive", ErrFormatMismatch)
	case Raw:
		return Info{Format: Raw, VirtualSize: size}, nil
	}
	return Info{}, fmt.Errorf("unknown image format %q", want)
}

func inspectQCOW2(r io.ReaderAt, head []byte) (Info, error) {
	if len(head) < 72 || !bytes.Equal(head[:4], qcow2Magic) {
		return Info{}, fmt.Errorf("%w: Image is not in qcow2 format", ErrFormatMismatch)
	}
	be := binary.BigEndian
	if v := be.Uint32(head[4:8]); v != 2 && v != 3 {
		return Info{}, fmt.Errorf("%w: unsupported qcow2 version %d", ErrFormatMismatch, v)
	}
	info := Info{Format: QCOW2, VirtualSize: int64(be.Uint64(head[24:32]))}
	if off, n := be.Uint64(head[8:16]), be.Uint32(head[16:20]); off != 0 && n > 0 && n < 1024 {
		name := make([]byte, n)
		if _, err := r.ReadAt(name, int64(off)); err != nil {
			return Info{}, fmt.Errorf("read qcow2 backing file name: %w", err)
		}
		info.BackingFile = string(name)
	}
	dataFile, err := qcow2DataFile(r, head)
	if err != nil {
		return Info{}, err
	}
	info.DataFile = dataFile
	return info, nil
}

// qcow2DataFile reads the external data file name from a qcow2 header's
// extensions (type "DATA"). A version 3 image that sets the external data
// file feature without naming one cannot be opened, as in qemu.
func qcow2DataFile(r io.ReaderAt, head []byte) (string, error) {
	be := binary.BigEndian
	start, incompat := uint32(72), uint64(0)
	if be.Uint32(head[4:8]) == 3 {
		if len(head) < 104 {
			return "", fmt.Errorf("%w: qcow2 header too short", ErrFormatMismatch)
		}
		incompat, start = be.Uint64(head[72:80]), be.Uint32(head[100:104])
	}
	clusterBits := be.Uint32(head[20:24])
	if clusterBits < 9 || clusterBits > 21 || uint64(start) >= 1<<clusterBits {
		return "", fmt.Errorf("%w: bad qcow2 cluster size or header length", ErrFormatMismatch)
	}
	area := make([]byte, min(1<<clusterBits, 1<<16))
	n, err := r.ReadAt(area, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read qcow2 header extensions: %w", err)
	}
	area = area[:n]
	name := ""
	for off := int(start); off+8 <= len(area); {
		typ, size := be.Uint32(area[off:]), int(be.Uint32(area[off+4:]))
		if typ == 0 || off+8+size > len(area) {
			break
		}
		if typ == qcow2ExtDataFile {
			name = string(area[off+8 : off+8+size])
		}
		off += 8 + (size+7)/8*8
	}
	if name == "" && incompat&qcow2IncompatDataFile != 0 {
		return "", fmt.Errorf("%w: 'data-file' is required for this image", ErrFormatMismatch)
	}
	return name, nil
}

const (
	// qcow2ExtDataFile is the header extension naming the external data file.
	qcow2ExtDataFile = 0x44415441
	// qcow2IncompatDataFile is the incompatible feature bit of an image
	// whose data lives in an external data file.
	qcow2IncompatDataFile = 1 << 2
)

// FormatFromName returns the format a file name's extension claims
// (".qcow2", ".raw", ".vmdk", ".ova"; case-sensitive, as PVE), or false.
func FormatFromName(name string) (Format, bool) {
	for _, f := range []Format{QCOW2, Raw, VMDK, OVA} {
		ext := "." + string(f)
		if len(name) > len(ext) && name[len(name)-len(ext):] == ext {
			return f, true
		}
	}
	return "", false
}
