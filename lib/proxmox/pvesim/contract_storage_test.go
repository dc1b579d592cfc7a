package pvesim_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestContractStorageListAndContentFilter(t *testing.T) {
	s := newSim(t)
	var all []map[string]any
	s.call("GET", "/nodes/pve/storage", nil).data(t, &all)
	require.Len(t, all, 2)
	require.Equal(t, "local", all[0]["storage"])
	require.Equal(t, "dir", all[0]["type"])
	require.Equal(t, "backup,iso,vztmpl", all[0]["content"], "import is off on a fresh host")
	for _, k := range []string{"total", "used", "avail", "enabled", "active"} {
		require.Contains(t, all[0], k)
	}

	var importable []map[string]any
	s.call("GET", "/nodes/pve/storage", map[string]string{"content": "import"}).data(t, &importable)
	require.Empty(t, importable)
	s.enableImport()
	s.call("GET", "/nodes/pve/storage", map[string]string{"content": "import"}).data(t, &importable)
	require.Len(t, importable, 1)

	a := s.call("PUT", "/storage/local-zfs", map[string]string{"content": "images,import"})
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "storage 'local-zfs' does not support content type 'import'\n", a.env.Errors["content"])

	var cfg map[string]any
	s.call("GET", "/storage/local", nil).data(t, &cfg)
	a = s.call("PUT", "/storage/local", map[string]string{"content": "iso", "digest": "0000000000000000000000000000000000000000"})
	require.Equal(t, http.StatusInternalServerError, a.status)
	require.Contains(t, a.env.Message, "detected modified configuration")
	require.Equal(t, http.StatusOK, s.call("PUT", "/storage/local", map[string]string{"content": "iso,import", "digest": cfg["digest"].(string)}).status)
}

func TestContractDownloadURL(t *testing.T) {
	img := testtool.QCOW2(t, 1<<30, []byte("talos"))
	raw := bytes.Repeat([]byte{1}, 4096)
	backed := testtool.QCOW2(t, 1<<30, nil)
	copy(backed[8:16], []byte{0, 0, 0, 0, 0, 0, 2, 0}) // backing file at offset 512
	copy(backed[16:20], []byte{0, 0, 0, 9})            // nine bytes long
	copy(backed[512:], "base.img\x00")
	srv := testtool.ServeFiles(t, map[string][]byte{"talos.qcow2": img, "disk.raw": raw, "backed.qcow2": backed})
	sum := sha256hex(img)

	s := newSim(t)
	download := func(params map[string]string) answer {
		return s.call("POST", "/nodes/pve/storage/local/download-url", params)
	}

	t.Run("import not enabled", func(t *testing.T) {
		a := download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2"})
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "storage 'local' is not configured for content-type 'import'", a.reason)
	})
	t.Run("block storage", func(t *testing.T) {
		a := s.call("POST", "/nodes/pve/storage/local-zfs/download-url", map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2"})
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "can't upload to storage type 'zfspool', not a file based storage!", a.reason)
	})

	s.enableImport()
	t.Run("wrong extension for import", func(t *testing.T) {
		for _, name := range []string{"noble.img", "talos.QCOW2", "talos"} {
			a := download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": name})
			require.Equal(t, http.StatusBadRequest, a.status, name)
			require.Equal(t, "invalid filename or wrong extension\n", a.env.Errors["filename"], name)
		}
	})
	t.Run("xz is not a compression PVE knows", func(t *testing.T) {
		a := download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "iso", "filename": "x.iso", "compression": "xz"})
		require.Equal(t, http.StatusBadRequest, a.status)
		require.Contains(t, a.env.Errors["compression"], "value 'xz' does not have a value in the enumeration")
	})
	t.Run("compression is refused by the import task", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "gz.qcow2", "compression": "gz"})))
		require.Equal(t, "decompression not supported for import", exit)
	})
	t.Run("verified download", func(t *testing.T) {
		upid := s.upid(download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2",
			"checksum": sum, "checksum-algorithm": "sha256"}))
		require.Contains(t, upid, ":download:talos.qcow2:")
		exit, log := s.waitTask(upid)
		require.Equal(t, "OK", exit)
		require.Equal(t, "downloading "+srv.URL+"/talos.qcow2 to /var/lib/vz/import/talos.qcow2", log[0])
		require.Contains(t, strings.Join(log, "\n"), "calculating checksum...OK, checksum verified")
		require.Contains(t, strings.Join(log, "\n"), "100%")

		var vols []map[string]any
		s.call("GET", "/nodes/pve/storage/local/content", map[string]string{"content": "import"}).data(t, &vols)
		require.Len(t, vols, 1)
		require.Equal(t, "local:import/talos.qcow2", vols[0]["volid"])
		require.Equal(t, "qcow2", vols[0]["format"])
		require.Equal(t, "import", vols[0]["content"])
	})
	t.Run("existing file, same checksum", func(t *testing.T) {
		exit, log := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2",
			"checksum": sum, "checksum-algorithm": "sha256"})))
		require.Equal(t, "OK", exit)
		require.Contains(t, strings.Join(log, "\n"), "OK, got correct file already, no need to download")
	})
	t.Run("existing file, no checksum", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2"})))
		require.Equal(t, "refusing to override existing file '/var/lib/vz/import/talos.qcow2'", exit)
	})
	t.Run("existing file, other checksum", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2",
			"checksum": strings.Repeat("0", 64), "checksum-algorithm": "sha256"})))
		require.Equal(t, fmt.Sprintf("checksum mismatch: got '%s' != expect '%s', aborting", sum, strings.Repeat("0", 64)), exit)
	})
	t.Run("download with wrong checksum", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "new.qcow2",
			"checksum": strings.Repeat("a", 64), "checksum-algorithm": "sha256"})))
		require.Equal(t, fmt.Sprintf("checksum mismatch: got '%s' != expect '%s'", sum, strings.Repeat("a", 64)), exit)
		var vols []map[string]any
		s.call("GET", "/nodes/pve/storage/local/content", map[string]string{"content": "import"}).data(t, &vols)
		require.Len(t, vols, 1, "a failed download leaves no file")
	})
	t.Run("filename normalized", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/disk.raw", "content": "import", "filename": "dir/my disk+v1.raw"})))
		require.Equal(t, "OK", exit)
		a := s.call("GET", "/nodes/pve/storage/local/content/local:import/my_disk_v1.raw", nil)
		require.Equal(t, http.StatusOK, a.status, a.body)
	})
	t.Run("not a qcow2", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/disk.raw", "content": "import", "filename": "fake.qcow2"})))
		require.Contains(t, exit, "Image is not in qcow2 format")
	})
	t.Run("backing file refused", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/backed.qcow2", "content": "import", "filename": "backed.qcow2"})))
		require.Contains(t, exit, "backing file not allowed for untrusted image", "pve-storage file_size_info's wording (TestContractUntrustedImages)")
	})
	t.Run("URL not found", func(t *testing.T) {
		exit, log := s.waitTask(s.upid(download(map[string]string{"url": srv.URL + "/missing.qcow2", "content": "import", "filename": "missing.qcow2"})))
		require.Contains(t, exit, "download failed: command '/usr/bin/wget --progress=dot:giga")
		require.Contains(t, strings.Join(log, "\n"), "ERROR 404: Not Found.")
	})
}

func TestContractDownloadProgress(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 6<<20) // 96 MiB of data clusters
	img := testtool.QCOW2(t, 1<<30, payload)
	srv := testtool.ServeFiles(t, map[string][]byte{"big.qcow2": img})
	s := newSim(t, pvesim.WithDownloadBandwidth(1<<30))
	s.enableImport()
	exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/storage/local/download-url",
		map[string]string{"url": srv.URL + "/big.qcow2", "content": "import", "filename": "big.qcow2"})))
	require.Equal(t, "OK", exit)
	var percents []string
	for _, l := range log {
		if strings.HasSuffix(strings.Fields(l + " x")[0], "K") && strings.Contains(l, "%") {
			percents = append(percents, strings.Fields(l)[len(strings.Fields(l))-3])
		}
	}
	require.Equal(t, []string{"33%", "66%", "99%", "100%"}, percents, "one wget dot:giga line per 32 MiB")
}

// multipartUpload builds an upload body with the fields in the given order.
func multipartUpload(t *testing.T, fields [][2]string, filename string, data []byte, fileFirst bool) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	writeFile := func() {
		fw, err := w.CreateFormFile("filename", filename)
		require.NoError(t, err)
		_, err = fw.Write(data)
		require.NoError(t, err)
	}
	if fileFirst {
		writeFile()
	}
	for _, f := range fields {
		require.NoError(t, w.WriteField(f[0], f[1]))
	}
	if !fileFirst {
		writeFile()
	}
	require.NoError(t, w.Close())
	return &buf, w.FormDataContentType()
}

func TestContractUpload(t *testing.T) {
	s := newSim(t)
	s.enableImport()
	img := testtool.QCOW2(t, 512<<20, []byte("nixos"))
	post := func(body io.Reader, ctype string, length int64) answer {
		req, err := http.NewRequest("POST", s.URL()+"/nodes/pve/storage/local/upload", body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", ctype)
		req.ContentLength = length
		return s.do(req)
	}

	good := [][2]string{{"content", "import"}, {"checksum-algorithm", "sha256"}, {"checksum", sha256hex(img)}}
	body, ctype := multipartUpload(t, good, "nixos.qcow2", img, false)
	upid := s.upid(post(body, ctype, int64(body.Len())))
	require.Contains(t, upid, ":imgcopy::", "upload tasks have an empty id")
	exit, log := s.waitTask(upid)
	require.Equal(t, "OK", exit)
	require.Contains(t, log[0], "starting file import from: /var/tmp/pveupload-")
	require.Contains(t, strings.Join(log, "\n"), "target file: /var/lib/vz/import/nixos.qcow2")

	t.Run("existing file is overwritten", func(t *testing.T) {
		body, ctype := multipartUpload(t, [][2]string{{"content", "import"}}, "nixos.qcow2", img, false)
		exit, _ := s.waitTask(s.upid(post(body, ctype, int64(body.Len()))))
		require.Equal(t, "OK", exit)
	})
	t.Run("fields out of order", func(t *testing.T) {
		swapped := [][2]string{{"content", "import"}, {"checksum", sha256hex(img)}, {"checksum-algorithm", "sha256"}}
		body, ctype := multipartUpload(t, swapped, "nixos.qcow2", img, false)
		a := post(body, ctype, int64(body.Len()))
		require.Equal(t, http.StatusBadRequest, a.status)
		require.Contains(t, a.env.Errors["checksum-algorithm"], "out of order")
	})
	t.Run("file before the fields", func(t *testing.T) {
		body, ctype := multipartUpload(t, good, "nixos.qcow2", img, true)
		a := post(body, ctype, int64(body.Len()))
		require.Equal(t, http.StatusBadRequest, a.status)
		require.Equal(t, "property is missing and it is not optional\n", a.env.Errors["content"])
	})
	t.Run("no Content-Length", func(t *testing.T) {
		body, ctype := multipartUpload(t, good, "nixos.qcow2", img, false)
		a := post(io.MultiReader(body), ctype, -1)
		require.Equal(t, http.StatusLengthRequired, a.status)
	})
	t.Run("checksum mismatch", func(t *testing.T) {
		bad := [][2]string{{"content", "import"}, {"checksum-algorithm", "sha256"}, {"checksum", strings.Repeat("0", 64)}}
		body, ctype := multipartUpload(t, bad, "other.qcow2", img, false)
		// pve-storage Status.pm upload checks the checksum in the imgcopy
		// worker, before the copy.
		exit, log := s.waitTask(s.upid(post(body, ctype, int64(body.Len()))))
		require.Equal(t, fmt.Sprintf("checksum mismatch: got '%s' != expect '%s'", sha256hex(img), strings.Repeat("0", 64)), exit)
		require.Equal(t, "calculating checksum...", log[1])
		require.NotContains(t, strings.Join(log, "\n"), "target file:")
	})
}

func TestContractDeleteVolume(t *testing.T) {
	srv := testtool.ServeFiles(t, map[string][]byte{"a.raw": []byte("abc")})
	s := newSim(t)
	s.enableImport()
	exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/storage/local/download-url", map[string]string{"url": srv.URL + "/a.raw", "content": "import", "filename": "a.raw"})))
	require.Equal(t, "OK", exit)
	upid := s.upid(s.call("DELETE", "/nodes/pve/storage/local/content/local:import/a.raw", nil))
	require.Contains(t, upid, ":imgdel::", "volume deletions have an empty id")
	exit, _ = s.waitTask(upid)
	require.Equal(t, "OK", exit)
	a := s.call("GET", "/nodes/pve/storage/local/content/local:import/a.raw", nil)
	require.Equal(t, http.StatusInternalServerError, a.status)
	require.Equal(t, "volume 'local:import/a.raw' does not exist", a.reason)
}

func TestContractDownloadNeedsNetworkPrivilege(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.Storages[0].Content = append(setup.Storages[0].Content, "import")
	setup.Tokens = append(setup.Tokens, pvesim.Token{ID: "infra@pve!ds", Secret: "ds", ACL: []pvesim.ACL{{Path: "/storage", Role: "PVEDatastoreAdmin", Propagate: true}}})
	s := newSim(t, pvesim.WithSetup(setup))
	s.auth = "PVEAPIToken=infra@pve!ds=ds"
	a := s.call("POST", "/nodes/pve/storage/local/download-url", map[string]string{"url": "https://example.invalid/a.raw", "content": "import", "filename": "a.raw"})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/, Sys.Audit|Sys.Modify)", a.reason)
}
