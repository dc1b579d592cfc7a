package diskimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
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

// HeaderError is a qcow2 image qemu would refuse to open. It matches
// ErrFormatMismatch (errors.Is).
type HeaderError struct {
	// Reason is qemu's own message, as `qemu-img info` prints it after
	// "Could not open '<file>': ".
	Reason string
}

// Error names the reason.
func (e *HeaderError) Error() string { return ErrFormatMismatch.Error() + ": " + e.Reason }

// Is reports whether target is ErrFormatMismatch.
func (e *HeaderError) Is(target error) bool { return target == ErrFormatMismatch }

func headerError(format string, args ...any) error {
	return &HeaderError{Reason: fmt.Sprintf(format, args...)}
}

func inspectQCOW2(r io.ReaderAt, head []byte) (Info, error) {
	if len(head) < 72 || !bytes.Equal(head[:4], qcow2Magic) {
		return Info{}, headerError("Image is not in qcow2 format")
	}
	be := binary.BigEndian
	if v := be.Uint32(head[4:8]); v != 2 && v != 3 {
		return Info{}, headerError("Unsupported qcow2 version %d", v)
	}
	if err := qcow2Open(head); err != nil {
		return Info{}, err
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

// qcow2Open checks the header fields qemu's qcow2_do_open (block/qcow2.c)
// checks before it reads any table, in its order and with its messages:
// cluster size, header length, backing file offset, refcount width, the
// refcount, snapshot and L1 tables' sizes and alignment, and that the L1
// table covers the virtual size. head holds at least 104 bytes.
func qcow2Open(head []byte) error {
	be := binary.BigEndian
	bits := be.Uint32(head[20:24])
	if bits < 9 || bits > 21 {
		return headerError("Unsupported cluster size: 2^%d", bits)
	}
	cluster := uint64(1) << bits
	headerLength, refcountOrder, incompat := uint64(72), uint32(4), uint64(0)
	if be.Uint32(head[4:8]) == 3 {
		incompat, refcountOrder = be.Uint64(head[72:80]), be.Uint32(head[96:100])
		if headerLength = uint64(be.Uint32(head[100:104])); headerLength < 104 {
			return headerError("qcow2 header too short")
		}
	}
	if headerLength > cluster {
		return headerError("qcow2 header exceeds cluster size")
	}
	if be.Uint64(head[8:16]) > cluster {
		return headerError("Invalid backing file offset")
	}
	if refcountOrder > 6 {
		return headerError("Reference count entry width too large; may not exceed 64 bits")
	}
	refTableClusters := uint64(be.Uint32(head[56:60]))
	if refTableClusters == 0 {
		return headerError("Image does not contain a reference count table")
	}
	table := func(name string, offset, entries, entryLen, maxBytes uint64) error {
		if entries > maxBytes/entryLen {
			return headerError("%s too large", name)
		}
		if uint64(math.MaxInt64)-entries*entryLen < offset || offset%cluster != 0 {
			return headerError("%s offset invalid", name)
		}
		return nil
	}
	if err := table("Reference count table", be.Uint64(head[48:56]), refTableClusters, cluster, 8<<20); err != nil {
		return err
	}
	if err := table("Snapshot table", be.Uint64(head[64:72]), uint64(be.Uint32(head[60:64])), 40, 40*65536); err != nil {
		return err
	}
	l1Size := uint64(be.Uint32(head[36:40]))
	if err := table("Active L1 table", be.Uint64(head[40:48]), l1Size, 8, 32<<20); err != nil {
		return err
	}
	l2Bits := uint64(bits) - 3 // 8-byte L2 entries
	if incompat&qcow2IncompatExtL2 != 0 {
		l2Bits-- // 16-byte extended L2 entries
	}
	shift := uint64(bits) + l2Bits
	need := (be.Uint64(head[24:32]) + (1 << shift) - 1) >> shift
	if need > math.MaxInt32 {
		return headerError("Image is too big")
	}
	if l1Size < need {
		return headerError("L1 table is too small")
	}
	return nil
}

const (
	// qcow2IncompatExtL2 is the incompatible feature bit of extended L2 entries.
	qcow2IncompatExtL2 = 1 << 4
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
