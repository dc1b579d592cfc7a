package diskimage_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/diskimage"
)

func writeImage(t *testing.T, virtualSize int64, payload []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.qcow2")
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = diskimage.WriteQCOW2(f, virtualSize, payload)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path
}

// inspectFile inspects the image file at path.
func inspectFile(t *testing.T, path string, want diskimage.Format) (diskimage.Info, error) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	return diskimage.Inspect(f, st.Size(), want)
}

// TestWriteQCOW2IsValidForQemuImg has the real qemu-img check the image,
// report its size, and convert it back to raw to read the payload.
func TestWriteQCOW2IsValidForQemuImg(t *testing.T) {
	qemuImg := testtool.Require(t, "qemu-img")
	payload := bytes.Repeat([]byte("talos!"), 40000) // 240 000 bytes: four data clusters
	for _, tc := range []struct {
		name    string
		size    int64
		payload []byte
	}{
		{"empty 10 GiB", 10 << 30, nil},
		{"payload 64 MiB", 64 << 20, payload},
		{"one sector", 512, []byte{7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeImage(t, tc.size, tc.payload)
			out, err := exec.Command(qemuImg, "check", "-f", "qcow2", path).CombinedOutput()
			require.NoError(t, err, "qemu-img check: %s", out)
			require.Contains(t, string(out), "No errors were found")

			out, err = exec.Command(qemuImg, "info", "-f", "qcow2", "--output=json", path).Output()
			require.NoError(t, err)
			var info struct {
				Format      string `json:"format"`
				VirtualSize int64  `json:"virtual-size"`
			}
			require.NoError(t, json.Unmarshal(out, &info))
			require.Equal(t, "qcow2", info.Format)
			require.Equal(t, tc.size, info.VirtualSize)

			if tc.size <= 64<<20 {
				// Read the disk back through qemu: the payload, then zeros.
				raw := filepath.Join(t.TempDir(), "disk.raw")
				out, err = exec.Command(qemuImg, "convert", "-f", "qcow2", "-O", "raw", path, raw).CombinedOutput()
				require.NoError(t, err, "%s", out)
				got, err := os.ReadFile(raw)
				require.NoError(t, err)
				require.Len(t, got, int(tc.size))
				require.True(t, bytes.Equal(tc.payload, got[:len(tc.payload)]), "payload differs")
				require.Equal(t, make([]byte, int(tc.size)-len(tc.payload)), got[len(tc.payload):])
			}

			inspected, err := inspectFile(t, path, diskimage.QCOW2)
			require.NoError(t, err)
			require.Equal(t, diskimage.Info{Format: diskimage.QCOW2, VirtualSize: tc.size}, inspected)
		})
	}
}

// TestWriteQCOW2WithDataFile has the real qemu-img read an image whose data
// lives in an external data file: it must report the data-file reference,
// as pve-storage's file_size_info reads it from `qemu-img info`.
func TestWriteQCOW2WithDataFile(t *testing.T) {
	qemuImg := testtool.Require(t, "qemu-img")
	dir := t.TempDir()
	path := filepath.Join(dir, "ext.qcow2")
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = diskimage.WriteQCOW2(f, 1<<30, nil, diskimage.WithDataFile("ext.raw"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ext.raw"), nil, 0o644))
	require.NoError(t, os.Truncate(filepath.Join(dir, "ext.raw"), 1<<30))

	// qemu opens a relative data file name from its working directory.
	check := exec.Command(qemuImg, "check", "-f", "qcow2", path)
	check.Dir = dir
	out, err := check.CombinedOutput()
	require.NoError(t, err, "qemu-img check: %s", out)
	info := exec.Command(qemuImg, "info", "-f", "qcow2", "--output=json", path)
	info.Dir = dir
	out, err = info.Output()
	require.NoError(t, err)
	var got struct {
		VirtualSize    int64 `json:"virtual-size"`
		FormatSpecific struct {
			Data struct {
				DataFile string `json:"data-file"`
			} `json:"data"`
		} `json:"format-specific"`
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	require.Equal(t, int64(1<<30), got.VirtualSize)
	require.Equal(t, "ext.raw", got.FormatSpecific.Data.DataFile)

	inspected, err := inspectFile(t, path, diskimage.QCOW2)
	require.NoError(t, err)
	require.Equal(t, diskimage.Info{Format: diskimage.QCOW2, VirtualSize: 1 << 30, DataFile: "ext.raw"}, inspected)

	_, err = diskimage.WriteQCOW2(&bytes.Buffer{}, 1<<30, []byte("x"), diskimage.WithDataFile("ext.raw"))
	require.ErrorContains(t, err, "data file")
}

func TestWriteQCOW2Rejects(t *testing.T) {
	_, err := diskimage.WriteQCOW2(&bytes.Buffer{}, 0, nil)
	require.Error(t, err)
	_, err = diskimage.WriteQCOW2(&bytes.Buffer{}, 512, make([]byte, 513))
	require.Error(t, err)
	_, err = diskimage.WriteQCOW2(&bytes.Buffer{}, 1000, nil)
	require.ErrorContains(t, err, "multiple of 512")
}

// TestInspectImagesMadeByQemuImg inspects images the real qemu-img wrote.
func TestInspectImagesMadeByQemuImg(t *testing.T) {
	qemuImg := testtool.Require(t, "qemu-img")
	dir := t.TempDir()
	run := func(args ...string) {
		out, err := exec.Command(qemuImg, args...).CombinedOutput()
		require.NoError(t, err, "qemu-img %v: %s", args, out)
	}
	base := filepath.Join(dir, "base.qcow2")
	run("create", "-f", "qcow2", base, "1G")
	child := filepath.Join(dir, "child.qcow2")
	run("create", "-f", "qcow2", "-b", base, "-F", "qcow2", child)
	vmdk := filepath.Join(dir, "disk.vmdk")
	run("create", "-f", "vmdk", vmdk, "1G")
	raw := filepath.Join(dir, "disk.raw")
	run("create", "-f", "raw", raw, "1M")

	info, err := inspectFile(t, base, diskimage.QCOW2)
	require.NoError(t, err)
	require.Equal(t, int64(1<<30), info.VirtualSize)
	require.Empty(t, info.BackingFile)

	info, err = inspectFile(t, child, diskimage.QCOW2)
	require.NoError(t, err)
	require.Equal(t, base, info.BackingFile)

	external := filepath.Join(dir, "external.qcow2")
	run("create", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "external.raw"), external, "1G")
	info, err = inspectFile(t, external, diskimage.QCOW2)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "external.raw"), info.DataFile)
	require.Empty(t, info.BackingFile)

	_, err = inspectFile(t, vmdk, diskimage.VMDK)
	require.NoError(t, err)
	_, err = inspectFile(t, raw, diskimage.QCOW2)
	require.ErrorIs(t, err, diskimage.ErrFormatMismatch)
	require.ErrorContains(t, err, "Image is not in qcow2 format")
	_, err = inspectFile(t, raw, diskimage.OVA)
	require.ErrorIs(t, err, diskimage.ErrFormatMismatch)
	info, err = inspectFile(t, raw, diskimage.Raw)
	require.NoError(t, err)
	require.Equal(t, int64(1<<20), info.VirtualSize)
}

func TestFormatFromName(t *testing.T) {
	for name, want := range map[string]diskimage.Format{"a.qcow2": diskimage.QCOW2, "b.raw": diskimage.Raw, "c.vmdk": diskimage.VMDK, "d.ova": diskimage.OVA} {
		got, ok := diskimage.FormatFromName(name)
		require.True(t, ok, name)
		require.Equal(t, want, got)
	}
	for _, name := range []string{"noble.img", "a.QCOW2", "qcow2", "a.iso", ".qcow2"} {
		_, ok := diskimage.FormatFromName(name)
		require.False(t, ok, name)
	}
}

func ExampleWriteQCOW2() {
	var buf bytes.Buffer
	n, err := diskimage.WriteQCOW2(&buf, 1<<30, []byte("hello"))
	if err != nil {
		fmt.Println(err)
		return
	}
	info, _ := diskimage.Inspect(bytes.NewReader(buf.Bytes()), n, diskimage.QCOW2)
	fmt.Println(n, info.Format, info.VirtualSize)
	// Output: 393216 qcow2 1073741824
}
