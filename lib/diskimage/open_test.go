package diskimage_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/diskimage"
)

// TestInspectQCOW2RefusesWhatQemuRefuses corrupts one header field of a
// valid image at a time: Inspect refuses it with the reason the real
// `qemu-img info` gives when it cannot open it (qcow2_do_open in qemu's
// block/qcow2.c), which pve-storage's file_size_info passes on.
func TestInspectQCOW2RefusesWhatQemuRefuses(t *testing.T) {
	qemuImg := testtool.Require(t, "qemu-img")
	be := binary.BigEndian
	u32 := func(at int, v uint32) func([]byte) { return func(h []byte) { be.PutUint32(h[at:], v) } }
	u64 := func(at int, v uint64) func([]byte) { return func(h []byte) { be.PutUint64(h[at:], v) } }
	tests := []struct {
		name   string
		change func(h []byte)
		reason string
	}{
		{"version", u32(4, 4), "Unsupported qcow2 version 4"},
		{"cluster bits too small", u32(20, 8), "Unsupported cluster size: 2^8"},
		{"cluster bits too large", u32(20, 22), "Unsupported cluster size: 2^22"},
		{"header length too short", u32(100, 96), "qcow2 header too short"},
		{"header length beyond the cluster", u32(100, 1<<17), "qcow2 header exceeds cluster size"},
		{"backing file offset beyond the cluster", u64(8, 1<<17), "Invalid backing file offset"},
		{"refcount order", u32(96, 7), "Reference count entry width too large; may not exceed 64 bits"},
		{"no refcount table", u32(56, 0), "Image does not contain a reference count table"},
		{"refcount table unaligned", u64(48, 65536+512), "Reference count table offset invalid"},
		{"refcount table too large", u32(56, 129), "Reference count table too large"},
		{"snapshot table unaligned", func(h []byte) { be.PutUint32(h[60:], 1); be.PutUint64(h[64:], 512) }, "Snapshot table offset invalid"},
		{"L1 table unaligned", u64(40, 3*65536+8), "Active L1 table offset invalid"},
		{"L1 table too large", u32(36, 1<<22+1), "Active L1 table too large"},
		{"L1 table too small", u64(24, 1<<40), "L1 table is too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := diskimage.WriteQCOW2(&buf, 1<<30, []byte("nixos"))
			require.NoError(t, err)
			img := buf.Bytes()
			tt.change(img)
			path := filepath.Join(t.TempDir(), "bad.qcow2")
			require.NoError(t, os.WriteFile(path, img, 0o644))

			out, err := exec.Command(qemuImg, "info", "-f", "qcow2", path).CombinedOutput()
			require.Error(t, err, "qemu-img info accepted it: %s", out)
			require.Equal(t, "qemu-img: Could not open '"+path+"': "+tt.reason, strings.TrimSpace(string(out)))

			_, err = diskimage.Inspect(bytes.NewReader(img), int64(len(img)), diskimage.QCOW2)
			require.ErrorIs(t, err, diskimage.ErrFormatMismatch)
			var he *diskimage.HeaderError
			require.True(t, errors.As(err, &he), "%v", err)
			require.Equal(t, tt.reason, he.Reason)
		})
	}
}
