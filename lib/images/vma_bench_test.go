package images

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/diskimage"
	"github.com/wdiazux/infra/lib/proxmox"
)

// vmaChildEnv carries a vmaChildConfig (JSON) to the test binary re-executed
// by BenchmarkUploadVMA, which then converts stdin in TestVMAChild.
const vmaChildEnv = "INFRA_VMA_CHILD"

// vmaChildConfig is what the child process needs to reach the simulator.
type vmaChildConfig struct {
	URL, TokenID, TokenSecret, Fingerprint string
	File, TempDir, Result                  string
}

// vmaChildResult is what the child reports: uploadVMA's result and its own
// peak resident set (VmHWM from /proc/self/status).
type vmaChildResult struct {
	Result vmaResult
	VmHWM  int64
}

// runVMAChild is the child's work: uploadVMA from src to the simulator,
// then the result and peak RSS written to cfg.Result.
func runVMAChild(ctx context.Context, cfg vmaChildConfig, src io.Reader) error {
	client, err := proxmox.New(proxmox.Config{URL: cfg.URL, TokenID: cfg.TokenID, TokenSecret: cfg.TokenSecret, Fingerprint: cfg.Fingerprint},
		proxmox.WithPollInterval(5*time.Millisecond))
	if err != nil {
		return err
	}
	res, err := uploadVMA(ctx, client, vmaUpload{Node: "pve", Storage: "local", File: cfg.File, Drive: nixosDrive, Source: src, TempDir: cfg.TempDir})
	if err != nil {
		return err
	}
	hwm, err := vmHWM()
	if err != nil {
		return err
	}
	out, err := json.Marshal(vmaChildResult{Result: res, VmHWM: hwm})
	if err != nil {
		return err
	}
	return os.WriteFile(cfg.Result, out, 0o600)
}

// vmHWM reads this process's peak resident set in bytes.
func vmHWM() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// TestVMAChild is the child process of BenchmarkUploadVMA when the
// environment names a configuration; otherwise it runs the same child code
// in this process on a small archive, so the harness itself is tested.
func TestVMAChild(t *testing.T) {
	if raw := os.Getenv(vmaChildEnv); raw != "" {
		var cfg vmaChildConfig
		require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
		require.NoError(t, runVMAChild(context.Background(), cfg, os.Stdin))
		return
	}
	sim, _, dataDir := vmaSim(t)
	zst, rawDisk := vmaSource(t, vmaDisk{Size: 16 << 20, Every: 4, Blocks: 16})
	id, secret := sim.Token()
	cfg := vmaChildConfig{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint(),
		File: "child.qcow2", TempDir: t.TempDir(), Result: filepath.Join(t.TempDir(), "result.json")}
	require.NoError(t, runVMAChild(context.Background(), cfg, bytes.NewReader(zst)))
	var got vmaChildResult
	out, err := os.ReadFile(cfg.Result)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(out, &got))
	require.Positive(t, got.VmHWM)
	require.Equal(t, int64(16<<20), got.Result.VirtualSize)
	require.Equal(t, int64(64)*diskimage.ClusterSize, got.Result.DataBytes)
	qemuImgVerify(t, filepath.Join(dataDir, "local", "import", "child.qcow2"), rawDisk)
	requireEmptyDir(t, cfg.TempDir)
}

// BenchmarkUploadVMA converts a 2 GiB sparse VMA (10% of its clusters hold
// data; generated on the fly, zstd-compressed and piped, never held in
// memory) end to end in a child process — zstd decode, VMA read, qcow2
// spool, sha256, upload to the simulator — and reports the child's peak
// RSS (its VmHWM; the benchmark fails above 64 MiB), the bytes
// uploaded against the allocated data plus the qcow2 metadata (fails when
// above), and the throughput over the virtual disk. The registered file
// then passes the real `qemu-img check` and `qemu-img compare` against the
// source disk.
//
//	go test -run '^$' -bench BenchmarkUploadVMA -benchtime 1x ./lib/images/
func BenchmarkUploadVMA(b *testing.B) {
	const (
		size     = int64(2 << 30)
		every    = 10
		maxRSS   = 64 << 20
		registry = "nixos-bench.qcow2"
	)
	sim, _, dataDir := vmaSim(b)
	id, secret := sim.Token()
	b.SetBytes(size)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tmp := b.TempDir()
		rawPath := filepath.Join(tmp, "source.raw")
		raw, err := os.Create(rawPath)
		require.NoError(b, err)
		require.NoError(b, raw.Truncate(size))
		cfg := vmaChildConfig{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint(),
			File: registry, TempDir: b.TempDir(), Result: filepath.Join(tmp, "result.json")}
		env, err := json.Marshal(cfg)
		require.NoError(b, err)
		cmd := exec.Command(os.Args[0], "-test.run", "^TestVMAChild$", "-test.count", "1")
		cmd.Env = append(os.Environ(), vmaChildEnv+"="+string(env))
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		stdin, err := cmd.StdinPipe()
		require.NoError(b, err)

		b.StartTimer()
		start := time.Now()
		require.NoError(b, cmd.Start())
		var compressed countingWriter
		nonZero, genErr := writeVMA(io.MultiWriter(stdin, &compressed), raw, vmaDisk{Size: size, Every: every, Blocks: 16})
		stdin.Close()
		waitErr := cmd.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		raw.Close()
		require.NoError(b, genErr)
		require.NoError(b, waitErr, "child: %s", stderr.String())

		var got vmaChildResult
		out, err := os.ReadFile(cfg.Result)
		require.NoError(b, err, "child: %s", stderr.String())
		require.NoError(b, json.Unmarshal(out, &got))
		res := got.Result
		// The child's own peak: VmHWM of its address space, read after the
		// upload. Not rusage's ru_maxrss: Go starts a child with
		// clone(CLONE_VFORK|CLONE_VM), and execve records the shared
		// (parent's) high-water mark as the child's, so ru_maxrss reports
		// this benchmark process's RSS whenever that is larger.
		rss := got.VmHWM

		// Metadata a qcow2 of this size can need: header, an L2 table per
		// 512 MiB, the L1 table, refcount blocks (one per 2 GiB of file)
		// and the refcount table.
		c := int64(diskimage.ClusterSize)
		l1 := (size + 8192*c - 1) / (8192 * c)
		metaBound := (1 + l1 + (l1*8+c-1)/c + (res.Uploaded/c)/32768 + 1 + 1) * c
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(compressed.n)/(1<<20), "compressed-MiB")
		b.ReportMetric(float64(nonZero)/(1<<20), "allocated-MiB")
		b.ReportMetric(float64(res.Uploaded)/(1<<20), "uploaded-MiB")
		b.ReportMetric(float64(res.Uploaded-res.DataBytes)/(1<<10), "metadata-KiB")
		b.ReportMetric(float64(size)/elapsed.Seconds()/1e6, "disk-MB/s")
		b.ReportMetric(float64(res.Uploaded)/elapsed.Seconds()/1e6, "uploaded-MB/s")
		if rss > maxRSS {
			b.Fatalf("peak RSS of the converting process is %d MiB, above the %d MiB bound", rss>>20, maxRSS>>20)
		}
		if res.DataBytes != nonZero || res.Uploaded > nonZero+metaBound {
			b.Fatalf("uploaded %d bytes for %d bytes of allocated data (image data %d) + at most %d of metadata", res.Uploaded, nonZero, res.DataBytes, metaBound)
		}
		qemuImgVerify(b, filepath.Join(dataDir, "local", "import", registry), rawPath)
		requireEmptyDir(b, cfg.TempDir)
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
