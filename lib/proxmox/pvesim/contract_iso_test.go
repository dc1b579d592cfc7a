package pvesim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/diskimage"
)

// uploadISO uploads data as name with content "iso" to storage local, as
// Packer's proxmox plugin does (content, then the file), and returns the
// imgcopy task's exit status and log.
func (s *sim) uploadISO(name string, data []byte) (string, []string) {
	s.t.Helper()
	body, ctype := multipartUpload(s.t, [][2]string{{"content", "iso"}}, name, data, false)
	req, err := http.NewRequest("POST", s.URL()+"/nodes/pve/storage/local/upload", body)
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", ctype)
	return s.waitTask(s.upid(s.do(req)))
}

// isoVolumes lists the volids of storage local's iso content.
func (s *sim) isoVolumes() []string {
	s.t.Helper()
	var vols []map[string]any
	s.call("GET", "/nodes/pve/storage/local/content", map[string]string{"content": "iso"}).data(s.t, &vols)
	var out []string
	for _, v := range vols {
		out = append(out, v["volid"].(string))
	}
	return out
}

// TestContractUploadISOExtension pins pve-storage Status.pm upload for
// content "iso": the name is normalized (normalize_content_filename: the
// path stripped, characters outside [a-zA-Z0-9_.-] replaced by '_'), then
// must match $ISO_EXT_RE_0 = qr/\.(?:iso|img)/i — case-insensitive, so a
// Windows ISO named "*.ISO" is accepted — else a 400 on filename "wrong file
// extension".
func TestContractUploadISOExtension(t *testing.T) {
	s := newSim(t)
	iso := []byte("CD001 an ISO 9660 image")
	for _, tt := range []struct{ name, volid string }{
		{"packer1234.iso", "local:iso/packer1234.iso"},
		{"SERVER_EVAL_x64FRE_en-us.ISO", "local:iso/SERVER_EVAL_x64FRE_en-us.ISO"},
		{"virtio win.Img", "local:iso/virtio_win.Img"},
	} {
		exit, log := s.uploadISO(tt.name, iso)
		require.Equal(t, "OK", exit, log)
		require.Contains(t, s.isoVolumes(), tt.volid)
	}
	for _, name := range []string{"autounattend.xml", "win.iso.txt", "iso"} {
		body, ctype := multipartUpload(t, [][2]string{{"content", "iso"}}, name, iso, false)
		req, err := http.NewRequest("POST", s.URL()+"/nodes/pve/storage/local/upload", body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", ctype)
		a := s.do(req)
		require.Equal(t, http.StatusBadRequest, a.status, name)
		require.Equal(t, "wrong file extension\n", a.env.Errors["filename"], name)
	}
}

// TestContractUploadISOContent pins assert_iso_content (pve-storage
// Storage.pm): the uploaded file goes through file_size_info with format
// auto-detect and $untrusted set, so an "ISO" that is really a qcow2 with a
// backing file or an external data file is refused before it is copied; a
// file qemu-img reads as raw (any real ISO) passes.
func TestContractUploadISOContent(t *testing.T) {
	dataFile := testtool.QCOW2(t, 1<<30, nil, diskimage.WithDataFile("/etc/pve/priv/shadow.cfg"))
	backed := backedQCOW2(t)
	s := newSim(t)

	exit, log := s.uploadISO("evil.iso", dataFile)
	require.Regexp(t, `^/var/tmp/pveupload-[^/:]+: 'data-file' references are not allowed!$`, exit)
	require.NotContains(t, strings.Join(log, "\n"), "target file:", "the ISO is checked before it is copied")
	exit, _ = s.uploadISO("backed.iso", backed)
	require.Regexp(t, `^backing file not allowed for untrusted image '/var/tmp/pveupload-[^/:]+'!$`, exit)
	require.Empty(t, s.isoVolumes(), "a refused ISO is not kept")

	exit, log = s.uploadISO("plain-qcow2.iso", testtool.QCOW2(t, 1<<20, nil))
	require.Equal(t, "OK", exit, "a qcow2 without references passes the check (qemu-img reads it): %v", log)
}

// backedQCOW2 is a qcow2 image whose header names the backing file
// base.img.
func backedQCOW2(t *testing.T) []byte {
	t.Helper()
	backed := testtool.QCOW2(t, 1<<30, nil)
	copy(backed[8:16], []byte{0, 0, 0, 0, 0, 0, 2, 0}) // backing file at offset 512
	copy(backed[16:20], []byte{0, 0, 0, 9})            // nine bytes long
	copy(backed[512:], "base.img\x00")
	return backed
}
