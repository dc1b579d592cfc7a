package pvesim

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/diskimage"
	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// checkExtension applies PVE's per-content extension rules (case-sensitive
// but for ISOs, iso.go).
func checkExtension(content, name string) error {
	var ok bool
	switch content {
	case "import":
		_, ok = diskimage.FormatFromName(name)
	case "iso":
		return checkISOExtension(name)
	case "vztmpl":
		ok = regexp.MustCompile(`\.tar\.(gz|xz|zst|bz2)$`).MatchString(name)
	}
	if !ok {
		return badParam("filename", "invalid filename or wrong extension")
	}
	return nil
}

// volumeFormat is the format PVE lists for a file of a content type.
func volumeFormat(content, name string) string {
	switch content {
	case "iso":
		return "iso"
	case "vztmpl":
		return "tgz"
	case "import":
		if f, ok := diskimage.FormatFromName(name); ok {
			return string(f)
		}
	}
	return "raw"
}

func newHash(alg string) hash.Hash {
	switch alg {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha224":
		return sha256.New224()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	}
	return sha512.New()
}

func fileHash(alg, file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("unable to open '%s': %v", file, err)
	}
	defer f.Close()
	h := newHash(alg)
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// prepareTarget runs the synchronous checks download-url and upload share
// (pve-storage's storage_check_enabled first) and returns the storage and
// the normalized file name. Caller holds the lock.
func (w *world) prepareTarget(r *request, name string) (*storage, string, error) {
	st, err := w.nodeStorage(r)
	if err != nil {
		return nil, "", err
	}
	if st.Disabled {
		return nil, "", failed("storage '%s' is disabled", st.ID)
	}
	if !fileBased(st.Type) {
		return nil, "", failed("can't upload to storage type '%s', not a file based storage!", st.Type)
	}
	content := r.param("content")
	if !st.content[content] {
		return nil, "", failed("storage '%s' is not configured for content-type '%s'", st.ID, content)
	}
	file := pve.NormalizeFilename(name)
	if err := checkExtension(content, file); err != nil {
		return nil, "", err
	}
	return st, file, nil
}

// downloadURL answers POST .../download-url: synchronous checks, then a
// "download" task that fetches the URL like PVE's wget-based downloader.
func downloadURL(s *Server, r *request) (any, error) {
	w := s.world
	w.mu.Lock()
	st, file, err := w.prepareTarget(r, r.param("filename"))
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if c := r.param("compression"); c != "" && !strings.Contains(",gz,lzo,zst,bz2,", ","+c+",") {
		return nil, badParam("compression", fmt.Sprintf("value '%s' does not have a value in the enumeration 'gz, lzo, zst, bz2'", c))
	}
	content, rawURL := r.param("content"), r.param("url")
	alg, want := r.param("checksum-algorithm"), strings.ToLower(r.param("checksum"))
	verify := r.param("verify-certificates") != "0"
	dest, real := st.pvePath(content, file), st.realPath(content, file)
	return s.startTask(r.who.id, "download", file, func(ctx context.Context, log taskLog) error {
		if r.param("compression") != "" && content != "iso" {
			return errors.New("decompression not supported for " + content)
		}
		log.Printf("downloading %s to %s", rawURL, dest)
		if _, err := os.Stat(real); err == nil {
			if alg == "" {
				return fmt.Errorf("refusing to override existing file '%s'", dest)
			}
			got, err := fileHash(alg, real)
			if err != nil {
				return err
			}
			if got == want {
				log.Printf("calculating checksum of existing file...OK, got correct file already, no need to download")
				return nil
			}
			log.Printf("calculating checksum of existing file...")
			return fmt.Errorf("checksum mismatch: got '%s' != expect '%s', aborting", got, want)
		}
		tmp := fmt.Sprintf("%s.tmp.%d", real, time.Now().UnixNano()%100000)
		shown := fmt.Sprintf("%s.tmp_dwnl.%d", dest, os.Getpid()) // download_file_from_url's $tmp_download
		defer os.Remove(tmp)
		if err := s.fetch(ctx, log, rawURL, tmp, shown, verify); err != nil {
			return err
		}
		if alg != "" {
			got, err := fileHash(alg, tmp)
			if err != nil {
				return err
			}
			if got != want {
				log.Printf("calculating checksum...")
				return fmt.Errorf("checksum mismatch: got '%s' != expect '%s'", got, want)
			}
			log.Printf("calculating checksum...OK, checksum verified")
		}
		virtual, err := untrustedImage(content, file, tmp, shown)
		if err != nil {
			return fmt.Errorf("failed to verify file: %w", err)
		}
		if err := s.register(st, content, file, tmp, real, virtual); err != nil {
			return err
		}
		log.Printf("download of '%s' to '%s' finished", rawURL, dest)
		return nil
	}), nil
}

// fetch downloads rawURL into tmp, logging like `wget --progress=dot:giga`
// writing to shown, the temporary file PVE names.
func (s *Server) fetch(ctx context.Context, log taskLog, rawURL, tmp, shown string, verify bool) error {
	wgetCmd := fmt.Sprintf("/usr/bin/wget --progress=dot:giga -O %s %s", shown, rawURL)
	failure := func() error { return fmt.Errorf("download failed: command '%s' failed: exit code 8", wgetCmd) }
	client := s.httpClient
	if !verify {
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the caller asked for it
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return failure()
	}
	log.Printf("--%s--  %s", time.Now().Format("2006-01-02 15:04:05"), rawURL)
	resp, err := client.Do(req)
	if err != nil {
		log.Printf("failed: %v.", err)
		return failure()
	}
	defer resp.Body.Close()
	log.Printf("HTTP request sent, awaiting response... %s", resp.Status)
	if resp.StatusCode != http.StatusOK {
		log.Printf("%s ERROR %d: %s.", time.Now().Format("2006-01-02 15:04:05"), resp.StatusCode, http.StatusText(resp.StatusCode))
		return failure()
	}
	total := resp.ContentLength
	if total >= 0 {
		log.Printf("Length: %d (%s) [%s]", total, humanSize(total), resp.Header.Get("Content-Type"))
	} else {
		log.Printf("Length: unspecified [%s]", resp.Header.Get("Content-Type"))
	}
	log.Printf("Saving to: '%s'", shown)
	log.Printf("")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("unable to create '%s': %v", tmp, err)
	}
	defer f.Close()
	const line = 32 << 20 // dot:giga: 32 dots of 1 MiB per line
	start, lastLine := time.Now(), int64(0)
	n, err := s.throttled(ctx, f, resp.Body, func(done int64) {
		for done-lastLine >= line {
			lastLine += line
			log.Printf("%s", dotLine(lastLine-line, line, lastLine, total, time.Since(start)))
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("got interrupted by signal")
		}
		log.Printf("%s (%s) - Read error at byte %d (%v).", time.Now().Format("2006-01-02 15:04:05"), "0 B/s", n, err)
		return failure()
	}
	if total >= 0 && n != total {
		return failure()
	}
	if n > lastLine || n == 0 {
		log.Printf("%s", dotLine(lastLine, n-lastLine, n, total, time.Since(start)))
	}
	log.Printf("")
	log.Printf("%s (%s/s) - '%s' saved [%d/%d]", time.Now().Format("2006-01-02 15:04:05"),
		humanSize(int64(float64(n)/max(time.Since(start).Seconds(), 0.001))), shown, n, max(total, n))
	return f.Close()
}

// dotLine renders one line of wget's dot:giga progress: the offset in K, a
// dot per MiB of the chunk, and the percentage when the length is known.
func dotLine(offset, chunk, done, total int64, elapsed time.Duration) string {
	dots := int((chunk + (1 << 20) - 1) >> 20)
	var b strings.Builder
	fmt.Fprintf(&b, "%7dK", offset>>10)
	for i := 0; i < 32; i++ {
		if i%8 == 0 {
			b.WriteByte(' ')
		}
		if i < dots {
			b.WriteByte('.')
		} else {
			b.WriteByte(' ')
		}
	}
	if total > 0 {
		fmt.Fprintf(&b, " %3d%%", done*100/total)
	}
	fmt.Fprintf(&b, " %s %s", humanSize(int64(float64(chunk)/max(elapsed.Seconds(), 0.001))), elapsed.Round(time.Second))
	return b.String()
}

// untrustedImage checks a file from outside the way pve-storage's
// file_size_info does with $untrusted set (`qemu-img info` on the file): an
// image of import content must be in the format its name says, without a
// backing file or an external data file, and so must an ISO that qemu-img
// probes as qcow2 (assert_iso_content). shown is the path PVE names in its
// errors. It returns the virtual size (the file size for other content).
func untrustedImage(content, file, real, shown string) (int64, error) {
	info, err := os.Stat(real)
	if err != nil {
		return 0, fmt.Errorf("failed to stat '%s'", shown)
	}
	format, _ := diskimage.FormatFromName(file)
	switch {
	case content == "iso":
		// assert_iso_content: qemu-img probes the format (iso.go).
		if format = probeISO(real); format == diskimage.Raw {
			return info.Size(), nil
		}
	case content != "import":
		return info.Size(), nil
	}
	f, err := os.Open(real)
	if err != nil {
		return 0, fmt.Errorf("failed to stat '%s'", shown)
	}
	defer f.Close()
	di, err := diskimage.Inspect(f, info.Size(), format)
	var he *diskimage.HeaderError
	switch {
	case errors.As(err, &he):
		// qemu-img's stderr, which run_qemu_img_json dies with.
		return 0, fmt.Errorf("qemu-img: Could not open '%s': %s", shown, he.Reason)
	case err != nil:
		return 0, fmt.Errorf("qemu-img: Could not open '%s': %v", shown, err)
	case di.DataFile != "":
		//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
		return 0, fmt.Errorf("%s: 'data-file' references are not allowed!", shown)
	case di.BackingFile != "":
		//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
		return 0, fmt.Errorf("backing file not allowed for untrusted image '%s'!", shown)
	case content == "iso":
		return info.Size(), nil
	}
	return di.VirtualSize, nil
}

// register moves a fetched or uploaded file that untrustedImage accepted
// into place and records the volume with its virtual size.
func (s *Server) register(st *storage, content, file, tmp, real string, virtual int64) error {
	info, err := os.Stat(tmp)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, real); err != nil {
		return fmt.Errorf("unable to rename temporary file: %v", err)
	}
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	name := pve.FileVolName(content, file)
	st.volumes[name] = &volume{name: name, content: content, format: volumeFormat(content, file), size: virtual,
		used: info.Size(), ctime: time.Now().Unix(), file: real}
	return nil
}

// uploaded is the file part of an upload, spooled to a temporary file.
type uploaded struct {
	tmp  string
	name string
	size int64
}

// readUpload reads an upload's multipart body the way pveproxy does: the
// fields content, checksum-algorithm and checksum, in that order, then the
// file part named "filename" (spooled to disk). Any other order is refused.
func (s *Server) readUpload(r *http.Request, params map[string]any) (*uploaded, *apiError) {
	if r.ContentLength < 0 {
		return nil, &apiError{status: http.StatusLengthRequired, msg: "Length Required"}
	}
	_, mp, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mp["boundary"] == "" {
		return nil, badParam("filename", "upload needs a multipart/form-data body")
	}
	mr := multipart.NewReader(r.Body, mp["boundary"])
	order := []string{"content", "checksum-algorithm", "checksum"}
	next := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, badParam("filename", "property is missing and it is not optional")
		}
		if err != nil {
			return nil, &apiError{status: http.StatusBadRequest, msg: "malformed multipart body: " + err.Error()}
		}
		name := part.FormName()
		if name == "filename" {
			return s.spool(part, params)
		}
		i := indexOf(order[next:], name)
		if i < 0 {
			return nil, badParam(name, fmt.Sprintf("multipart field '%s' is out of order: pveproxy needs content, checksum-algorithm, checksum, then the file", name))
		}
		next += i + 1
		v, err := io.ReadAll(io.LimitReader(part, 4096))
		if err != nil {
			return nil, &apiError{status: http.StatusBadRequest, msg: "malformed multipart body: " + err.Error()}
		}
		params[name] = string(v)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// spool writes the file part to /var/tmp/pveupload-* (here: the data dir).
func (s *Server) spool(part *multipart.Part, params map[string]any) (*uploaded, *apiError) {
	f, err := os.CreateTemp(s.world.dataDir, "pveupload-")
	if err != nil {
		return nil, failed("unable to create upload file: %v", err)
	}
	n, err := io.Copy(f, part)
	f.Close()
	if err != nil {
		os.Remove(f.Name())
		return nil, &apiError{status: http.StatusBadRequest, msg: "upload interrupted: " + err.Error()}
	}
	params["filename"] = part.FileName()
	return &uploaded{tmp: f.Name(), name: part.FileName(), size: n}, nil
}

// upload answers POST .../upload with an "imgcopy" task that checks the
// spooled file (checksum, then the image) and moves it into place,
// overwriting an existing one, as pve-storage's upload worker does.
func upload(s *Server, r *request) (any, error) {
	up := r.upload
	w := s.world
	w.mu.Lock()
	st, file, err := w.prepareTarget(r, up.name)
	w.mu.Unlock()
	if err != nil {
		os.Remove(up.tmp)
		return nil, err
	}
	content := r.param("content")
	dest, real := st.pvePath(content, file), st.realPath(content, file)
	pveTmp := "/var/tmp/" + filepath.Base(up.tmp)
	return s.startTask(r.who.id, "imgcopy", "", func(ctx context.Context, log taskLog) error {
		defer os.Remove(up.tmp)
		log.Printf("starting file import from: %s", pveTmp)
		if alg := r.param("checksum-algorithm"); alg != "" {
			got, err := fileHash(alg, up.tmp)
			if err != nil {
				return err
			}
			if got != strings.ToLower(r.param("checksum")) {
				log.Printf("calculating checksum...")
				return fmt.Errorf("checksum mismatch: got '%s' != expect '%s'", got, r.param("checksum"))
			}
			log.Printf("calculating checksum...OK, checksum verified")
		}
		virtual, err := untrustedImage(content, file, up.tmp, pveTmp)
		if err != nil {
			return err
		}
		log.Printf("target node: %s", r.param("node"))
		log.Printf("target file: %s", dest)
		log.Printf("file size is: %d", up.size)
		log.Printf("command: cp -- %s %s", pveTmp, dest)
		if err := s.register(st, content, file, up.tmp, real, virtual); err != nil {
			return err
		}
		log.Printf("finished file import successfully")
		return nil
	}), nil
}

// queryURLMetadata answers GET .../query-url-metadata from a HEAD request.
func queryURLMetadata(s *Server, r *request) (any, error) {
	raw := r.param("url")
	req, err := http.NewRequestWithContext(r.ctx, http.MethodHead, raw, nil)
	if err != nil {
		return nil, failed("invalid URL '%s'", raw)
	}
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return nil, failed("can't connect to %s - %v", raw, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, failed("%s", resp.Status)
	}
	name := ""
	if _, p, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		name = p["filename"]
	}
	if name == "" {
		if u, err := url.Parse(raw); err == nil {
			name = path.Base(u.Path)
		}
	}
	out := map[string]any{"filename": pve.NormalizeFilename(name), "mimetype": resp.Header.Get("Content-Type")}
	if resp.ContentLength >= 0 {
		out["size"] = resp.ContentLength
	}
	return out, nil
}
