package diskimage_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/diskimage"
)

// op is one call on a SparseQCOW2: data nil means ZeroCluster.
type op struct {
	off  int64
	data []byte
}

func fill(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%253) + 1
	}
	return b
}

// holes writes all-zero buffers as holes (a seek past them), so a test can
// make a multi-gigabyte image whose data clusters take no disk space.
type holes struct {
	f    *os.File
	zero []byte
}

func (h holes) Write(p []byte) (int, error) {
	if len(p) != len(h.zero) || !bytes.Equal(p, h.zero) {
		return h.f.Write(p)
	}
	if _, err := h.f.Seek(int64(len(p)), io.SeekCurrent); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h holes) Seek(off int64, whence int) (int64, error) { return h.f.Seek(off, whence) }

// qemuCheck runs `qemu-img check` and requires no errors and no leaks.
func qemuCheck(t *testing.T, qemuImg, path string) {
	t.Helper()
	out, err := exec.Command(qemuImg, "check", "-f", "qcow2", "--output=json", path).CombinedOutput()
	require.NoError(t, err, "qemu-img check: %s", out)
	var res struct {
		CheckErrors int `json:"check-errors"`
		Leaks       int `json:"leaks"`
		Corruptions int `json:"corruptions"`
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	require.Zero(t, res.CheckErrors+res.Leaks+res.Corruptions, "qemu-img check: %s", out)
}

// TestSparseQCOW2 writes clusters in any order and has the real qemu-img
// check the image and compare it with the raw disk the calls describe.
func TestSparseQCOW2(t *testing.T) {
	qemuImg := testtool.Require(t, "qemu-img")
	const c = diskimage.ClusterSize
	tests := []struct {
		name      string
		size      int64
		ops       []op
		clusters  int64 // data clusters in the file
		fileBytes int64 // expected file size
	}{
		{name: "empty 1 GiB", size: 1 << 30, clusters: 0, fileBytes: 4 * c},
		{name: "out of order", size: 64 * c, ops: []op{{40 * c, fill(1, c)}, {0, fill(2, c)}, {63 * c, fill(3, c)}, {7 * c, fill(4, c)}},
			clusters: 4, fileBytes: (1 + 4 + 1 + 1 + 2) * c},
		{name: "short data reads as zeros after it", size: 8 * c, ops: []op{{2 * c, fill(5, 100)}}, clusters: 1, fileBytes: 6 * c},
		{name: "last cluster past the end of the disk", size: 3*c + 4096, ops: []op{{3 * c, fill(6, c)}}, clusters: 1, fileBytes: 6 * c},
		{name: "written twice: last data wins, one cluster", size: 4 * c, ops: []op{{c, fill(7, c)}, {c, fill(8, c)}}, clusters: 1, fileBytes: 6 * c},
		{name: "zeroed after a write", size: 4 * c, ops: []op{{c, fill(9, c)}, {2 * c, fill(10, c)}, {c, nil}}, clusters: 2, fileBytes: 7 * c},
		{name: "zero cluster never written costs nothing", size: 4 * c, ops: []op{{c, nil}, {3 * c, nil}}, clusters: 0, fileBytes: 4 * c},
		{name: "three L2 tables", size: 3 << 30, ops: []op{{0, fill(11, c)}, {(2 << 30) + 5*c, fill(12, c)}, {(1 << 30) - c, fill(13, c)}},
			clusters: 3, fileBytes: (1 + 3 + 3 + 1 + 2) * c},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, rawPath := filepath.Join(dir, "disk.qcow2"), filepath.Join(dir, "disk.raw")
			f, err := os.Create(path)
			require.NoError(t, err)
			defer f.Close()
			raw, err := os.Create(rawPath)
			require.NoError(t, err)
			defer raw.Close()
			require.NoError(t, raw.Truncate(tt.size))

			q, err := diskimage.NewSparseQCOW2(f, tt.size)
			require.NoError(t, err)
			for _, o := range tt.ops {
				want := make([]byte, min(c, tt.size-o.off))
				if o.data == nil {
					require.NoError(t, q.ZeroCluster(o.off))
				} else {
					require.NoError(t, q.WriteCluster(o.off, o.data))
					copy(want, o.data)
				}
				_, err := raw.WriteAt(want, o.off)
				require.NoError(t, err)
			}
			require.NoError(t, q.Close())
			require.Equal(t, tt.clusters, q.DataClusters())
			require.Equal(t, tt.fileBytes, q.Size())
			st, err := f.Stat()
			require.NoError(t, err)
			require.Equal(t, tt.fileBytes, st.Size())

			qemuCheck(t, qemuImg, path)
			out, err := exec.Command(qemuImg, "compare", "-f", "qcow2", "-F", "raw", path, rawPath).CombinedOutput()
			require.NoError(t, err, "qemu-img compare: %s", out)
			require.Contains(t, string(out), "Images are identical")
			info, err := inspectFile(t, path, diskimage.QCOW2)
			require.NoError(t, err)
			require.Equal(t, diskimage.Info{Format: diskimage.QCOW2, VirtualSize: tt.size}, info)
		})
	}
}

// TestSparseQCOW2ManyRefcountBlocks writes more clusters than one refcount
// block covers (32768: 2 GiB), as holes, so the refcount table needs two
// blocks and qemu-img check still finds every cluster counted once.
func TestSparseQCOW2ManyRefcountBlocks(t *testing.T) {
	qemuImg := testtool.Require(t, "qemu-img")
	const c = diskimage.ClusterSize
	path := filepath.Join(t.TempDir(), "big.qcow2")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	const clusters = 32768 + 100
	zero := make([]byte, c)
	q, err := diskimage.NewSparseQCOW2(holes{f, zero}, (clusters+1)*c)
	require.NoError(t, err)
	for i := int64(clusters); i > 0; i-- { // backwards: any order works
		require.NoError(t, q.WriteCluster(i*c, zero))
	}
	require.NoError(t, q.Close())
	// header + data + 5 L2 tables + L1 + 2 refcount blocks + refcount table
	require.Equal(t, int64(1+clusters+5+1+2+1)*c, q.Size())
	qemuCheck(t, qemuImg, path)
}

func TestSparseQCOW2Rejects(t *testing.T) {
	const c = diskimage.ClusterSize
	f, err := os.Create(filepath.Join(t.TempDir(), "x.qcow2"))
	require.NoError(t, err)
	defer f.Close()
	_, err = diskimage.NewSparseQCOW2(f, 1000)
	require.ErrorContains(t, err, "multiple of 512")
	q, err := diskimage.NewSparseQCOW2(f, 4*c)
	require.NoError(t, err)
	require.ErrorContains(t, q.WriteCluster(4*c, fill(1, c)), "not a cluster boundary inside the 262144-byte disk")
	require.ErrorContains(t, q.WriteCluster(100, fill(1, c)), "guest offset 100")
	require.ErrorContains(t, q.WriteCluster(0, make([]byte, c+1)), "more than a cluster")
	require.ErrorContains(t, q.ZeroCluster(-c), "guest offset")
	require.NoError(t, q.Close())
	require.ErrorIs(t, q.WriteCluster(0, fill(1, c)), diskimage.ErrClosed)
	require.ErrorIs(t, q.Close(), diskimage.ErrClosed)
}

// failing fails every write after the first n bytes.
type failing struct {
	n   int
	pos int64
}

func (f *failing) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, io.ErrShortWrite
	}
	f.n -= len(p)
	f.pos += int64(len(p))
	return len(p), nil
}

func (f *failing) Seek(off int64, _ int) (int64, error) { f.pos = off; return off, nil }

func TestSparseQCOW2WriteErrorSticks(t *testing.T) {
	const c = diskimage.ClusterSize
	q, err := diskimage.NewSparseQCOW2(&failing{n: c}, 4*c)
	require.NoError(t, err)
	err = q.WriteCluster(0, fill(1, c))
	require.ErrorIs(t, err, io.ErrShortWrite)
	require.ErrorContains(t, err, "write 65536 bytes at 65536")
	require.ErrorContains(t, q.Close(), "failed earlier")
	_, err = diskimage.NewSparseQCOW2(&failing{}, 4*c)
	require.ErrorIs(t, err, io.ErrShortWrite)
}

// ExampleSparseQCOW2 writes two clusters of a 10 GiB disk, out of order:
// the file holds the header, the two data clusters, an L2 table for each of
// their 512 MiB ranges, the L1 table and the refcount block and table: 8
// clusters.
func ExampleSparseQCOW2() {
	f, err := os.CreateTemp("", "example-*.qcow2")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	q, err := diskimage.NewSparseQCOW2(f, 10<<30)
	if err != nil {
		fmt.Println(err)
		return
	}
	data := bytes.Repeat([]byte("nixos!"), diskimage.ClusterSize/6)
	for _, off := range []int64{5 << 30, 0} {
		if err := q.WriteCluster(off, data); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := q.Close(); err != nil {
		fmt.Println(err)
		return
	}
	info, err := diskimage.Inspect(f, q.Size(), diskimage.QCOW2)
	fmt.Println(q.DataClusters(), q.Size()/diskimage.ClusterSize, info.VirtualSize, err)
	// Output: 2 8 10737418240 <nil>
}
