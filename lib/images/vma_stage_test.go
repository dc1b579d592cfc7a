package images

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/vmagen"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/vma"
)

// vmaDisk describes the archive vmaSource writes: a disk of Size bytes in
// which every Every-th cluster holds data (its first Blocks 4 KiB blocks
// non-zero) and the cluster after each is recorded as a zero cluster, plus
// the extra devices.
type vmaDisk struct {
	Size   int64
	Every  int64
	Blocks int
	Drive  string // the disk device is drive-<Drive>; "" = virtio0, as nixpkgs builds it
	Extra  []vmagen.Device
}

// clusterData fills cluster n's first blocks with data of its own that
// compresses about 2:1, as a root file system does: the first half of each
// 4 KiB block pseudo-random, the second half a counter.
func clusterData(buf []byte, n int64, blocks int) {
	clear(buf)
	rng := rand.New(rand.NewPCG(uint64(n), 0x9e3779b97f4a7c15))
	for i := 0; i < blocks*vmagen.BlockSize; i += 8 {
		v := uint64(n)<<32 + uint64(i)
		if i%vmagen.BlockSize < vmagen.BlockSize/2 {
			v = rng.Uint64()
		}
		binary.LittleEndian.PutUint64(buf[i:], v)
	}
}

// writeVMA streams the archive d describes to w (zstd-compressed) and, when
// raw is not nil, the disk's contents to raw (a sparse file), holding one
// cluster in memory. It returns the bytes of non-zero data.
func writeVMA(w io.Writer, raw io.WriterAt, d vmaDisk) (int64, error) {
	enc, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return 0, err
	}
	devs := append([]vmagen.Device{{Name: "drive-" + cmp.Or(d.Drive, nixosDrive), Size: d.Size}}, d.Extra...)
	vw, err := vmagen.NewWriter(enc, [16]byte{0x4e, 0x49, 0x58}, 1764200000,
		[]vmagen.Config{{Name: "qemu-server.conf", Data: []byte("virtio0: local:vm-100-disk-0\n")}}, devs)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, vmagen.ClusterSize)
	var data int64
	clusters := (d.Size + vmagen.ClusterSize - 1) / vmagen.ClusterSize
	for n := int64(0); n < clusters; n += d.Every {
		clusterData(buf, n, d.Blocks)
		if err := vw.WriteCluster(1, uint32(n), buf); err != nil {
			return 0, err
		}
		data += int64(d.Blocks) * vmagen.BlockSize
		if raw != nil {
			if _, err := raw.WriteAt(buf[:min(vmagen.ClusterSize, d.Size-n*vmagen.ClusterSize)], n*vmagen.ClusterSize); err != nil {
				return 0, err
			}
		}
		if n+1 < clusters {
			if err := vw.WriteCluster(1, uint32(n+1), nil); err != nil {
				return 0, err
			}
		}
	}
	for i := range d.Extra {
		clusterData(buf, 7, 1)
		if err := vw.WriteCluster(uint8(i+2), 0, buf); err != nil {
			return 0, err
		}
	}
	if err := vw.Close(); err != nil {
		return 0, err
	}
	return data, enc.Close()
}

// vmaSource returns the compressed archive and the path of the raw disk.
func vmaSource(t testing.TB, d vmaDisk) ([]byte, string) {
	t.Helper()
	rawPath := filepath.Join(t.TempDir(), "source.raw")
	raw, err := os.Create(rawPath)
	require.NoError(t, err)
	defer raw.Close()
	require.NoError(t, raw.Truncate(d.Size))
	var zst bytes.Buffer
	_, err = writeVMA(&zst, raw, d)
	require.NoError(t, err)
	return zst.Bytes(), rawPath
}

// vmaSim is a simulated PVE whose "local" storage holds import content, and
// a client for it.
func vmaSim(t testing.TB) (*pvesim.Server, *proxmox.Client, string) {
	t.Helper()
	setup := pvesim.DefaultSetup()
	setup.Storages[0].Content = append(setup.Storages[0].Content, "import")
	dataDir := t.TempDir()
	sim, err := pvesim.New(pvesim.WithSetup(setup), pvesim.WithDataDir(dataDir))
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	id, secret := sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint()},
		proxmox.WithPollInterval(2*time.Millisecond), proxmox.WithRetry(proxmox.RetryPolicy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond}))
	require.NoError(t, err)
	return sim, client, dataDir
}

// qemuImgVerify has the real qemu-img check the image (no errors, no leaks)
// and compare it with the raw source disk.
func qemuImgVerify(t testing.TB, image, raw string) {
	t.Helper()
	qemuImg := testtool.Require(t, "qemu-img")
	out, err := exec.Command(qemuImg, "check", "-f", "qcow2", image).CombinedOutput()
	require.NoError(t, err, "qemu-img check: %s", out)
	require.Contains(t, string(out), "No errors were found on the image.")
	require.NotContains(t, string(out), "leaked")
	out, err = exec.Command(qemuImg, "compare", "-f", "qcow2", "-F", "raw", image, raw).CombinedOutput()
	require.NoError(t, err, "qemu-img compare: %s", out)
	require.Contains(t, string(out), "Images are identical.")
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

func requireEmptyDir(t testing.TB, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left, "temporary files left in %s", dir)
}

// TestUploadVMA converts a sparse NixOS-like archive (a disk, a vmstate
// device) and uploads it to the simulator: PVE registered a qcow2 that is
// the source disk, with the sum uploadVMA computed and passed, in one
// upload request, and the spool is gone.
func TestUploadVMA(t *testing.T) {
	sim, client, dataDir := vmaSim(t)
	d := vmaDisk{Size: 64<<20 + 4096, Every: 9, Blocks: 5, Extra: []vmagen.Device{{Name: vma.VMStateDevice, Size: 1 << 20}}}
	zst, raw := vmaSource(t, d)
	tmp := t.TempDir()
	last := map[string][2]int64{}
	res, err := uploadVMA(context.Background(), client, vmaUpload{
		Node: "pve", Storage: "local", File: "nixos-25.11.qcow2", Drive: nixosDrive, Source: bytes.NewReader(zst), TempDir: tmp,
		Progress: func(stage string, done, total int64) { last[stage] = [2]int64{done, total} },
	})
	require.NoError(t, err)

	registered := filepath.Join(dataDir, "local", "import", "nixos-25.11.qcow2")
	st, err := os.Stat(registered)
	require.NoError(t, err)
	require.Equal(t, "local:import/nixos-25.11.qcow2", res.Volume.String())
	require.Equal(t, fileSHA256(t, registered), res.SHA256)
	require.Equal(t, st.Size(), res.Uploaded)
	require.Equal(t, d.Size, res.VirtualSize)
	clusters := (d.Size/vma.ClusterSize + 1 + d.Every - 1) / d.Every
	require.Equal(t, clusters*vma.ClusterSize, res.DataBytes)
	// header, data, one L2 table, L1 table, refcount block and table
	require.Equal(t, res.DataBytes+5*vma.ClusterSize, res.Uploaded)
	qemuImgVerify(t, registered, raw)

	var mutating []pvesim.Request
	for _, r := range sim.Requests() {
		if r.Method != http.MethodGet {
			mutating = append(mutating, r)
		}
	}
	require.Len(t, mutating, 1)
	up := mutating[0]
	require.Equal(t, "/nodes/pve/storage/local/upload", up.Path)
	require.Equal(t, http.StatusOK, up.Status)
	require.Equal(t, "import", up.Params["content"])
	require.Equal(t, "sha256", up.Params["checksum-algorithm"])
	require.Equal(t, res.SHA256, up.Params["checksum"])
	require.Equal(t, "nixos-25.11.qcow2", up.Params["filename"])

	require.Equal(t, [2]int64{int64(len(zst)), -1}, last[vmaStageConvert])
	require.Equal(t, [2]int64{res.Uploaded, res.Uploaded}, last[vmaStageChecksum])
	require.Equal(t, [2]int64{res.Uploaded, res.Uploaded}, last[vmaStageUpload])
	requireEmptyDir(t, tmp)
}

// errSourceEnd stands for the error a verifying source returns at its end.
var errSourceEnd = errors.New("sha256 of the download differs from the published one")

// failingReader fails every read with err.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// cancelAfter cancels a context once n bytes were read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// TestUploadVMAFails checks each failure names its phase and what to do,
// uploads nothing it should not, and leaves no temporary file.
func TestUploadVMAFails(t *testing.T) {
	small := vmaDisk{Size: 8 << 20, Every: 3, Blocks: 16}
	good, _ := vmaSource(t, small)
	plain, err := zstd.NewReader(bytes.NewReader(good))
	require.NoError(t, err)
	archive, err := io.ReadAll(plain)
	require.NoError(t, err)
	plain.Close()
	compress := func(b []byte, opts ...zstd.EOption) []byte {
		enc, err := zstd.NewWriter(nil, opts...)
		require.NoError(t, err)
		return enc.EncodeAll(b, nil)
	}
	corrupt := bytes.Clone(archive)
	corrupt[3000] ^= 1 // inside the header: its MD5 no longer matches
	twoDisks, _ := vmaSource(t, vmaDisk{Size: 1 << 20, Every: 1, Blocks: 1, Extra: []vmagen.Device{{Name: "drive-efidisk0", Size: 1 << 20}}})
	scsiDisk, _ := vmaSource(t, vmaDisk{Size: 1 << 20, Every: 1, Blocks: 1, Drive: "scsi0"})
	var bigWindow bytes.Buffer
	enc, err := zstd.NewWriter(&bigWindow, zstd.WithWindowSize(64<<20), zstd.WithEncoderConcurrency(1))
	require.NoError(t, err)
	_, err = enc.Write(archive)
	require.NoError(t, err)
	require.NoError(t, enc.Close())

	tests := []struct {
		name     string
		file     string
		source   func(cancel context.CancelFunc) io.Reader
		progress func(cancel context.CancelFunc) func(stage string, done, total int64)
		tempDir  func(t *testing.T) string
		fault    func(s *pvesim.Server)
		phase    string
		is       error
		msg      []string
		uploads  int
	}{
		{name: "not zstd", source: func(context.CancelFunc) io.Reader { return bytes.NewReader(archive) },
			phase: VMAPhaseDecode, msg: []string{"NixOS image: zstd decode at compressed byte", "download it again"}},
		{name: "corrupt zstd frame", source: func(context.CancelFunc) io.Reader {
			b := bytes.Clone(good)
			b[len(b)/2] ^= 0xff
			return bytes.NewReader(b)
		}, phase: VMAPhaseDecode},
		{name: "window beyond the bound", source: func(context.CancelFunc) io.Reader { return bytes.NewReader(bigWindow.Bytes()) },
			phase: VMAPhaseDecode, is: zstd.ErrWindowSizeExceeded, msg: []string{"recompress it without them"}},
		{name: "truncated archive", source: func(context.CancelFunc) io.Reader {
			return bytes.NewReader(compress(archive[:len(archive)-5000]))
		}, phase: VMAPhaseVMA, is: io.ErrUnexpectedEOF, msg: []string{"extent data", "truncated"}},
		{name: "corrupt header", source: func(context.CancelFunc) io.Reader { return bytes.NewReader(compress(corrupt)) },
			phase: VMAPhaseVMA, msg: []string{"header.md5sum"}},
		{name: "two disks", source: func(context.CancelFunc) io.Reader { return bytes.NewReader(twoDisks) },
			phase: VMAPhaseVMA, is: vma.ErrDiskChoice, msg: []string{`2 disk devices (1 "drive-virtio0", 2 "drive-efidisk0")`}},
		{name: "disk of another drive", source: func(context.CancelFunc) io.Reader { return bytes.NewReader(scsiDisk) },
			phase: VMAPhaseVMA, msg: []string{`the archive's disk is "drive-scsi0", not "drive-virtio0"`, "would not boot there"}},
		{name: "temporary directory missing", tempDir: func(t *testing.T) string { return filepath.Join(t.TempDir(), "gone") },
			phase: VMAPhaseWrite, is: os.ErrNotExist, msg: []string{"temporary directory must exist"}},
		{name: "upload refused", fault: func(s *pvesim.Server) {
			s.FailNextTask("imgcopy", "cp: error writing '/var/lib/vz/import/nixos.qcow2': No space left on device")
		}, phase: VMAPhaseUpload, msg: []string{"No space left on device", `storage "local" on node "pve" must have import content`}, uploads: 1},
		{name: "source fails at its end (a checksum mismatch)", source: func(context.CancelFunc) io.Reader {
			return io.MultiReader(bytes.NewReader(good), failingReader{errSourceEnd})
		}, phase: VMAPhaseDecode, is: errSourceEnd, msg: []string{"reading the download failed"}},
		{name: "cancelled while converting", source: func(cancel context.CancelFunc) io.Reader {
			return &cancelAfter{r: bytes.NewReader(good), n: len(good) / 2, cancel: cancel}
		}, is: context.Canceled},
		{name: "cancelled while uploading", progress: func(cancel context.CancelFunc) func(string, int64, int64) {
			return func(stage string, done, total int64) {
				if stage == vmaStageUpload && done > 0 {
					cancel()
				}
			}
		}, is: context.Canceled, uploads: -1},
		{name: "not a qcow2 name", file: "nixos.raw", msg: []string{`file name "nixos.raw" must end in .qcow2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, client, dataDir := vmaSim(t)
			if tt.fault != nil {
				tt.fault(sim)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := io.Reader(bytes.NewReader(good))
			if tt.source != nil {
				src = tt.source(cancel)
			}
			tmp := t.TempDir()
			if tt.tempDir != nil {
				tmp = tt.tempDir(t)
			}
			file := "nixos.qcow2"
			if tt.file != "" {
				file = tt.file
			}
			var progress func(string, int64, int64)
			if tt.progress != nil {
				progress = tt.progress(cancel)
			}
			_, err := uploadVMA(ctx, client, vmaUpload{Node: "pve", Storage: "local", File: file, Drive: nixosDrive, Source: src, TempDir: tmp, Progress: progress})
			require.Error(t, err)
			var ve *VMAError
			if tt.phase != "" {
				require.ErrorAs(t, err, &ve)
				require.Equal(t, tt.phase, ve.Phase, "%v", err)
			} else {
				require.False(t, errors.As(err, &ve), "no phase, no advice: %v", err)
			}
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			for _, m := range tt.msg {
				require.ErrorContains(t, err, m)
			}
			uploads := 0
			for _, r := range sim.Requests() {
				if r.Method == http.MethodPost {
					uploads++
				}
			}
			if tt.uploads >= 0 { // -1: the cancelled request may or may not have reached the host
				require.Equal(t, tt.uploads, uploads)
			}
			if tt.tempDir == nil {
				requireEmptyDir(t, tmp)
			}
			_, err = os.Stat(filepath.Join(dataDir, "local", "import", file))
			require.ErrorIs(t, err, os.ErrNotExist)
		})
	}
}

// TestConvertVMARoundTrip converts archives written the way vzdump may
// write them — the disk's clusters out of order and interleaved with another
// device's, the disk not the first device, a cluster rewritten, a cluster
// zeroed after a write, a last cluster past the disk's end — and has the
// real qemu-img check the image and compare it with the disk the archive
// describes.
func TestConvertVMARoundTrip(t *testing.T) {
	const c = vmagen.ClusterSize
	type write struct {
		dev  uint8
		num  uint32
		seed int64 // -1: a zero cluster
	}
	tests := []struct {
		name     string
		devs     []vmagen.Device
		disk     uint8
		writes   []write
		clusters int64
	}{
		{name: "out of order, interleaved with vmstate", disk: 1,
			devs:     []vmagen.Device{{Name: "drive-scsi0", Size: 40 * c}, {Name: vma.VMStateDevice, Size: 8 * c}},
			writes:   []write{{1, 39, 1}, {2, 0, 2}, {1, 0, 3}, {2, 7, 4}, {1, 17, 5}, {1, 18, -1}, {1, 2, 6}},
			clusters: 4},
		{name: "disk after vmstate", disk: 2,
			devs:     []vmagen.Device{{Name: vma.VMStateDevice, Size: 4 * c}, {Name: "drive-virtio0", Size: 6 * c}},
			writes:   []write{{1, 0, 1}, {2, 5, 2}, {1, 3, 3}, {2, 1, 4}},
			clusters: 2},
		{name: "rewritten and zeroed", disk: 1,
			devs:     []vmagen.Device{{Name: "drive-scsi0", Size: 8 * c}},
			writes:   []write{{1, 1, 1}, {1, 2, 2}, {1, 1, 3}, {1, 2, -1}},
			clusters: 2},
		{name: "last cluster past the end", disk: 1,
			devs:     []vmagen.Device{{Name: "drive-scsi0", Size: 3*c + 8192}},
			writes:   []write{{1, 3, 1}, {1, 0, 2}},
			clusters: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			size := tt.devs[tt.disk-1].Size
			rawPath := filepath.Join(dir, "disk.raw")
			raw, err := os.Create(rawPath)
			require.NoError(t, err)
			defer raw.Close()
			require.NoError(t, raw.Truncate(size))
			var zst bytes.Buffer
			enc, err := zstd.NewWriter(&zst)
			require.NoError(t, err)
			vw, err := vmagen.NewWriter(enc, [16]byte{9}, 1764200000, nil, tt.devs)
			require.NoError(t, err)
			buf := make([]byte, c)
			for _, w := range tt.writes {
				data := []byte(nil)
				if w.seed >= 0 {
					clusterData(buf, w.seed, 16)
					data = buf
				}
				require.NoError(t, vw.WriteCluster(w.dev, w.num, data))
				if w.dev == tt.disk {
					off := int64(w.num) * c
					want := make([]byte, min(c, size-off))
					copy(want, data)
					_, err := raw.WriteAt(want, off)
					require.NoError(t, err)
				}
			}
			require.NoError(t, vw.Close())
			require.NoError(t, enc.Close())

			imgPath := filepath.Join(dir, "disk.qcow2")
			img, err := os.Create(imgPath)
			require.NoError(t, err)
			defer img.Close()
			res, err := convertVMA(context.Background(), &zst, "", img, func(string, int64, int64) {})
			require.NoError(t, err)
			require.Equal(t, size, res.VirtualSize)
			require.Equal(t, tt.clusters*c, res.DataBytes)
			st, err := img.Stat()
			require.NoError(t, err)
			require.Equal(t, st.Size(), res.Uploaded)
			qemuImgVerify(t, imgPath, rawPath)
		})
	}
}
