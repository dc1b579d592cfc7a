package proxmox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// DownloadRequest asks a node to download a URL into a storage
// (POST .../download-url): the transfer happens on the Proxmox host.
type DownloadRequest struct {
	Node    string
	Storage string
	// URL is the http(s) URL to fetch.
	URL string
	// Content is "import" (disk images) or "iso".
	Content string
	// Filename is the file name on the storage; PVE normalizes it, and an
	// import needs .qcow2, .raw, .vmdk or .ova.
	Filename string
	// Checksum and ChecksumAlgorithm (sha256, sha512, ...) make PVE verify
	// the file, and let an existing file be reused.
	Checksum          string
	ChecksumAlgorithm string
	// Compression (gz, lzo, zst, bz2) decompresses an ISO after download.
	Compression string
	// SkipCertificateVerification lets PVE fetch from a host with an
	// untrusted certificate.
	SkipCertificateVerification bool
	// Replace deletes an existing file that does not match (or cannot be
	// checked against) the checksum and downloads it again.
	Replace bool
	// ReuseUnverified keeps an existing file when there is no checksum to
	// check it against.
	ReuseUnverified bool
}

// DownloadResult says what EnsureDownloaded did.
type DownloadResult struct {
	// Volume is the file's volume ID.
	Volume pve.VolumeID
	// Downloaded is false when an existing file was kept.
	Downloaded bool
	// Replaced is true when an existing file was deleted first.
	Replaced bool
	// Task is the download task, when one ran.
	Task *TaskResult
}

// VolumeFor is the volume ID a download or upload of file creates.
func VolumeFor(storage, content, filename string) pve.VolumeID {
	return pve.VolumeID{Storage: storage, Name: pve.FileVolName(content, pve.NormalizeFilename(filename))}
}

// EnsureDownloaded makes sure the file is on the storage: an existing file
// with the right checksum is kept (PVE verifies it server-side), a missing
// one is downloaded by PVE with the checksum verified, and a mismatching one
// is an error wrapping ErrChecksumMismatch unless Replace is set.
func (c *Client) EnsureDownloaded(ctx context.Context, req DownloadRequest, progress Progress) (DownloadResult, error) {
	vol := VolumeFor(req.Storage, req.Content, req.Filename)
	res := DownloadResult{Volume: vol}
	_, exists, err := c.FindVolume(ctx, req.Node, vol, req.Content)
	if err != nil {
		return res, fmt.Errorf("look for %s: %w", vol, err)
	}
	if exists && req.Checksum == "" {
		switch {
		case req.Replace:
		case req.ReuseUnverified:
			c.log.Warn("keeping an existing file without a checksum to verify it", "volume", vol.String())
			return res, nil
		default:
			return res, fmt.Errorf("%s already exists and there is no checksum to verify it against: pin a checksum, or replace the file", vol)
		}
	}
	if exists && req.Replace && req.Checksum == "" {
		if err := c.DeleteVolume(ctx, req.Node, vol); err != nil {
			return res, err
		}
		res.Replaced, exists = true, false
	}
	task, err := c.downloadURL(ctx, req, progress)
	var taskErr *TaskError
	if errors.As(err, &taskErr) && strings.Contains(taskErr.ExitStatus, "checksum mismatch") {
		if exists && req.Replace {
			if err := c.DeleteVolume(ctx, req.Node, vol); err != nil {
				return res, err
			}
			res.Replaced = true
			task, err = c.downloadURL(ctx, req, progress)
		} else {
			return res, fmt.Errorf("%s: %w: %s (replace the file to download it again)", vol, ErrChecksumMismatch, taskErr.ExitStatus)
		}
	}
	if err != nil {
		return res, fmt.Errorf("download %s into %s: %w", req.URL, vol, err)
	}
	res.Task = task
	res.Downloaded = !taskReused(task)
	return res, nil
}

// taskReused reports whether a download task found the file already there.
func taskReused(t *TaskResult) bool {
	for _, l := range t.Log {
		if strings.Contains(l, "no need to download") {
			return true
		}
	}
	return false
}

func (c *Client) downloadURL(ctx context.Context, req DownloadRequest, progress Progress) (*TaskResult, error) {
	p := Params{"url": req.URL, "content": req.Content, "filename": req.Filename}
	if req.Checksum != "" {
		p["checksum"], p["checksum-algorithm"] = strings.ToLower(req.Checksum), req.ChecksumAlgorithm
	}
	if req.Compression != "" {
		p["compression"] = req.Compression
	}
	if req.SkipCertificateVerification {
		p["verify-certificates"] = false
	}
	path := "/nodes/" + url.PathEscape(req.Node) + "/storage/" + url.PathEscape(req.Storage) + "/download-url"
	return c.runTask(ctx, http.MethodPost, path, p, progress)
}

// UploadRequest streams a file from this machine into a storage, for images
// that must be transformed on the client first.
type UploadRequest struct {
	Node    string
	Storage string
	// Content is "import" or "iso".
	Content string
	// Filename is the file name on the storage.
	Filename string
	// Body is the file; Size its exact length in bytes.
	Body io.Reader
	Size int64
	// Checksum and ChecksumAlgorithm make PVE verify the upload.
	Checksum          string
	ChecksumAlgorithm string
	// Sent, when set, is told the bytes sent so far.
	Sent func(sent, total int64)
}

// Upload streams a file to POST .../upload and waits for PVE's copy task.
// The multipart fields go in the order pveproxy requires (content,
// checksum-algorithm, checksum, then the file), with a Content-Length, so
// nothing is buffered in memory. An existing file is overwritten, as PVE does.
func (c *Client) Upload(ctx context.Context, req UploadRequest, progress Progress) (*TaskResult, error) {
	path := "/nodes/" + url.PathEscape(req.Node) + "/storage/" + url.PathEscape(req.Storage) + "/upload"
	pre, post, ctype, err := uploadEnvelope(req)
	if err != nil {
		return nil, err
	}
	body := io.MultiReader(strings.NewReader(pre), &countingReader{r: req.Body, total: req.Size, sent: req.Sent}, strings.NewReader(post))
	// An upload is a transfer: no overall limit, but it fails when no byte
	// moves for the idle limit.
	hreq, err := http.NewRequestWithContext(netx.Transfer(ctx, 0), http.MethodPost, c.cfg.URL+path, body)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	hreq.ContentLength = int64(len(pre)) + req.Size + int64(len(post))
	hreq.Header.Set("Content-Type", ctype)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("Authorization", "PVEAPIToken="+c.cfg.TokenID+"="+c.cfg.TokenSecret)
	resp, err := c.http.Do(hreq)
	if err != nil {
		var apiErr *APIError
		var netErr *NetworkError
		switch {
		case errors.As(err, &apiErr):
			return nil, apiErr
		case errors.As(err, &netErr):
			return nil, netErr
		}
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	var env struct {
		Data string `json:"data"`
	}
	if err := decodeJSON(resp.Body, &env); err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	return c.WaitTask(ctx, env.Data, progress)
}

// uploadEnvelope builds the multipart text before and after the file.
func uploadEnvelope(req UploadRequest) (pre, post, ctype string, err error) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	fields := [][2]string{{"content", req.Content}}
	if req.Checksum != "" {
		fields = append(fields, [2]string{"checksum-algorithm", req.ChecksumAlgorithm}, [2]string{"checksum", strings.ToLower(req.Checksum)})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return "", "", "", err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="filename"; filename=%q`, req.Filename))
	h.Set("Content-Type", "application/octet-stream")
	if _, err := w.CreatePart(h); err != nil {
		return "", "", "", err
	}
	pre = b.String()
	if err := w.Close(); err != nil {
		return "", "", "", err
	}
	return pre, b.String()[len(pre):], w.FormDataContentType(), nil
}

// countingReader reports the bytes read through it.
type countingReader struct {
	r     io.Reader
	n     int64
	total int64
	sent  func(sent, total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.sent != nil && n > 0 {
		c.sent(c.n, c.total)
	}
	return n, err
}
