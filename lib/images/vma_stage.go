package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"

	"github.com/wdiazux/infra/lib/diskimage"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/vma"
)

// Stages uploadVMA reports to vmaUpload.Progress.
const (
	// vmaStageConvert: done is the compressed bytes read from Source (total -1: unknown).
	vmaStageConvert = "convert"
	// vmaStageChecksum: done of total bytes of the spooled qcow2 hashed.
	vmaStageChecksum = "checksum"
	// vmaStageUpload: done of total bytes of the qcow2 sent to PVE.
	vmaStageUpload = "upload"
)

// Phases a VMAError names.
const (
	VMAPhaseDecode   = "zstd decode"
	VMAPhaseVMA      = "read the VMA archive"
	VMAPhaseWrite    = "write the qcow2 spool"
	VMAPhaseChecksum = "checksum the qcow2 spool"
	VMAPhaseUpload   = "upload the qcow2"
)

// vmaMaxWindow bounds the zstd window the decoder accepts, and with it the
// decoder's memory. zstd levels 1-19 use at most 8 MiB (nixpkgs'
// proxmox-image.nix compresses with plain `zstd`, level 3); a stream made
// with --long or --ultra needs more and is refused with advice.
const vmaMaxWindow = 32 << 20

// vmaProgressStep is how many compressed bytes pass between two convert
// progress reports.
const vmaProgressStep = 1 << 20

// VMAError is a failed NixOS VMA conversion or upload: the phase, where in
// the stream (Offset: compressed bytes read from the source; -1 when it
// does not apply) and what to do.
type VMAError struct {
	Phase  string
	Offset int64
	Advice string
	Err    error
}

// Error names the phase, the offset and the advice.
func (e *VMAError) Error() string {
	at := ""
	if e.Offset >= 0 {
		at = fmt.Sprintf(" at compressed byte %d", e.Offset)
	}
	return fmt.Sprintf("NixOS image: %s%s: %v; %s", e.Phase, at, e.Err, e.Advice)
}

// Unwrap returns the cause.
func (e *VMAError) Unwrap() error { return e.Err }

// uploadVMA reads a zstd-compressed VMA stream, converts its (single) disk
// to a sparse qcow2 spooled in a temporary file (pveproxy needs the size and
// checksum before the bytes, so the converted image is spooled, never held in
// memory), and uploads it as import content with its sha256 passed to PVE.
type vmaUpload struct {
	Node, Storage, File string    // File ends in .qcow2
	Drive               string    // the drive the base VM attaches it as ("virtio0"): the archive's disk must be drive-<Drive>
	Source              io.Reader // zstd-compressed VMA
	TempDir             string    // "" = os.TempDir()
	Progress            func(stage string, done, total int64)
}

// vmaResult is what uploadVMA did: the volume PVE registered, the qcow2's
// sha256 (PVE verified it), the disk's virtual size, the bytes of data
// clusters in the image and the bytes uploaded (the qcow2 file).
type vmaResult struct {
	Volume                           pve.VolumeID
	SHA256                           string
	VirtualSize, DataBytes, Uploaded int64
}

// uploadVMA converts and uploads in one pass over the source: zstd decoder
// (one goroutine, window at most vmaMaxWindow) → vma.Reader → one
// diskimage.SparseQCOW2 in a temporary file, one sequential read of that
// file for its sha256, then the upload with checksum-algorithm sha256. The
// temporary file is removed on every path.
func uploadVMA(ctx context.Context, up Uploader, req vmaUpload) (vmaResult, error) {
	if f, ok := diskimage.FormatFromName(req.File); !ok || f != diskimage.QCOW2 || pve.NormalizeFilename(req.File) != req.File {
		return vmaResult{}, fmt.Errorf("NixOS image: file name %q must end in .qcow2 and be a name PVE keeps as given (letters, digits, '-', '_', '.')", req.File)
	}
	progress := req.Progress
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	spool, err := os.CreateTemp(req.TempDir, "nixos-vma-*.qcow2")
	if err != nil {
		return vmaResult{}, &VMAError{Phase: VMAPhaseWrite, Offset: -1, Err: err,
			Advice: "the temporary directory must exist and be writable (set TMPDIR or the temporary directory option)"}
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	res, err := convertVMA(ctx, req.Source, req.Drive, spool, progress)
	if err != nil {
		return vmaResult{}, err
	}
	sum, err := hashSpool(ctx, spool, res.Uploaded, progress)
	if err != nil {
		return vmaResult{}, err
	}
	res.SHA256 = sum
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return vmaResult{}, &VMAError{Phase: VMAPhaseUpload, Offset: -1, Err: err, Advice: "the temporary file could not be re-read; check the temporary directory"}
	}
	_, err = up.Upload(ctx, proxmox.UploadRequest{
		Node: req.Node, Storage: req.Storage, Content: "import", Filename: req.File,
		Body: spool, Size: res.Uploaded, Checksum: sum, ChecksumAlgorithm: "sha256",
		Sent: func(sent, total int64) { progress(vmaStageUpload, sent, total) },
	}, nil)
	if err != nil && ctx.Err() != nil {
		return vmaResult{}, ctx.Err()
	}
	if err != nil {
		return vmaResult{}, &VMAError{Phase: VMAPhaseUpload, Offset: -1, Err: err,
			Advice: fmt.Sprintf("storage %q on node %q must have import content and room for %d bytes; the conversion is redone on the next run", req.Storage, req.Node, res.Uploaded)}
	}
	res.Volume = proxmox.VolumeFor(req.Storage, "import", req.File)
	return res, nil
}

// countingSource counts the compressed bytes read, reports them, and keeps
// the source's own error apart from the decoder's.
type countingSource struct {
	r        io.Reader
	n, last  int64
	err      error
	progress func(stage string, done, total int64)
}

func (c *countingSource) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n-c.last >= vmaProgressStep || (err != nil && c.n != c.last) {
		c.last = c.n
		c.progress(vmaStageConvert, c.n, -1)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// trackedDecoder keeps the decoder's error so a VMA read error caused by it
// is reported as a decode error.
type trackedDecoder struct {
	d   *zstd.Decoder
	err error
}

func (t *trackedDecoder) Read(p []byte) (int, error) {
	n, err := t.d.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	return n, err
}

// convertVMA decodes and converts the stream's disk into spool and closes
// the image; the disk must be drive-<drive> unless drive is "". Uploaded is
// the spool's size.
func convertVMA(ctx context.Context, source io.Reader, drive string, spool io.WriteSeeker, progress func(string, int64, int64)) (vmaResult, error) {
	src := &countingSource{r: source, progress: progress}
	dec, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(vmaMaxWindow))
	if err != nil {
		return vmaResult{}, &VMAError{Phase: VMAPhaseDecode, Offset: 0, Err: err, Advice: "the zstd decoder could not start"}
	}
	defer dec.Close()
	td := &trackedDecoder{d: dec}
	fail := func(err error) error {
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case src.err != nil:
			return &VMAError{Phase: VMAPhaseDecode, Offset: src.n, Err: src.err, Advice: "reading the download failed; run the import again"}
		case td.err != nil:
			advice := "the file is not zstd or is corrupt; download it again and compare its checksum"
			if errors.Is(td.err, zstd.ErrWindowSizeExceeded) || errors.Is(td.err, zstd.ErrDecoderSizeExceeded) {
				advice = fmt.Sprintf("the stream needs a zstd window above %d MiB (made with --long or --ultra); recompress it without them", vmaMaxWindow>>20)
			}
			return &VMAError{Phase: VMAPhaseDecode, Offset: src.n, Err: td.err, Advice: advice}
		}
		return &VMAError{Phase: VMAPhaseVMA, Offset: src.n, Err: err,
			Advice: "the archive is truncated or not a VMA made to vma_spec.txt; download it again"}
	}
	r, err := vma.NewReader(td)
	if err != nil {
		return vmaResult{}, fail(err)
	}
	disk, err := r.Disk("")
	if err != nil {
		return vmaResult{}, &VMAError{Phase: VMAPhaseVMA, Offset: src.n, Err: err, Advice: "a NixOS proxmox image has one disk; this archive is not one"}
	}
	if want := "drive-" + drive; drive != "" && disk.Name != want {
		return vmaResult{}, &VMAError{Phase: VMAPhaseVMA, Offset: src.n, Err: fmt.Errorf("the archive's disk is %q, not %q", disk.Name, want),
			Advice: "the base VM attaches the image as " + drive + ", the drive NixOS's proxmox image installs its boot loader for; an archive built for another drive would not boot there"}
	}
	writeErr := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &VMAError{Phase: VMAPhaseWrite, Offset: src.n, Err: err,
			Advice: fmt.Sprintf("the temporary directory needs room for the allocated part of a %d-byte disk", disk.Size)}
	}
	q, err := diskimage.NewSparseQCOW2(spool, disk.Size)
	if err != nil {
		return vmaResult{}, writeErr(err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return vmaResult{}, err
		}
		c, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return vmaResult{}, fail(err)
		}
		if c.Device != disk.ID {
			continue
		}
		if c.Zero() {
			err = q.ZeroCluster(c.Offset)
		} else {
			err = q.WriteCluster(c.Offset, c.Data)
		}
		if err != nil {
			return vmaResult{}, writeErr(err)
		}
	}
	// Read the source to its end whatever the decoder did: a verifying
	// source (cloudimage's Open) reports a checksum mismatch only there.
	if _, err := io.Copy(io.Discard, src); err != nil || src.err != nil {
		return vmaResult{}, fail(err)
	}
	if err := q.Close(); err != nil {
		return vmaResult{}, writeErr(err)
	}
	return vmaResult{VirtualSize: disk.Size, DataBytes: q.DataClusters() * diskimage.ClusterSize, Uploaded: q.Size()}, nil
}

// hashSpool reads the closed image once, from the start, for its sha256.
func hashSpool(ctx context.Context, spool io.ReadSeeker, size int64, progress func(string, int64, int64)) (string, error) {
	fail := func(err error) (string, error) {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &VMAError{Phase: VMAPhaseChecksum, Offset: -1, Err: err, Advice: "the temporary file could not be re-read; check the temporary directory"}
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := spool.Read(buf)
		h.Write(buf[:n])
		done += int64(n)
		if n > 0 {
			progress(vmaStageChecksum, done, size)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
	}
	if done != size {
		return fail(fmt.Errorf("read %d bytes of the %d-byte image", done, size))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
