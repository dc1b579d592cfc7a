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
	return info, nil
}

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
