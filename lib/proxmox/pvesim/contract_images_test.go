package pvesim_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/diskimage"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestContractDisabledStorageRefusesFiles pins pve-storage 9.1
// src/PVE/API2/Storage/Status.pm download_url and upload, which start with
// PVE::Storage::storage_check_enabled (src/PVE/Storage.pm): a storage with
// "disable" set is refused before anything else with a 500 "storage '<id>'
// is disabled". qemu-server's clone_vm checks its target storage the same
// way.
func TestContractDisabledStorageRefusesFiles(t *testing.T) {
	srv := testtool.ServeFiles(t, map[string][]byte{"talos.qcow2": testtool.QCOW2(t, 1<<30, nil)})
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 100, Name: "vm"}}
	s := newSim(t, pvesim.WithSetup(setup))
	a := s.call("PUT", "/storage/local", map[string]string{"content": "iso,vztmpl,backup,import", "disable": "1"})
	require.Equal(t, http.StatusOK, a.status, a.body)

	a = s.call("POST", "/nodes/pve/storage/local/download-url", map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2"})
	require.Equal(t, http.StatusInternalServerError, a.status, a.body)
	require.Equal(t, "storage 'local' is disabled", a.reason)

	body, ctype := multipartUpload(t, [][2]string{{"content", "import"}}, "talos.qcow2", testtool.QCOW2(t, 1<<20, nil), false)
	req, err := http.NewRequest("POST", s.URL()+"/nodes/pve/storage/local/upload", body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", ctype)
	a = s.do(req)
	require.Equal(t, http.StatusInternalServerError, a.status, a.body)
	require.Equal(t, "storage 'local' is disabled", a.reason)

	a = s.call("PUT", "/storage/local-zfs", map[string]string{"disable": "1"})
	require.Equal(t, http.StatusOK, a.status, a.body)
	a = s.call("POST", "/nodes/pve/qemu/100/clone", map[string]string{"newid": "101", "storage": "local-zfs"})
	require.Equal(t, http.StatusInternalServerError, a.status, a.body)
	require.Equal(t, "storage 'local-zfs' is disabled", a.reason)
}

// TestContractUntrustedImages pins pve-storage 9.1 src/PVE/Storage/Plugin.pm
// file_size_info with $untrusted set, which every path that takes an image
// from outside runs on it: download_url (its assert_file_validity, on the
// temporary file, wrapped by pve-common's download_file_from_url as "failed
// to verify file: "), upload (in the imgcopy worker, on the spooled file,
// before it is copied) and qemu-server's create_disks for an import-from
// source of content 'import' (on the volume's path, wrapped by create_vm as
// "unable to create VM <vmid> - "). A qcow2 whose format-specific data names
// a 'data-file' is refused ("<path>: 'data-file' references are not
// allowed!"), and so is one with a backing file ("backing file not allowed
// for untrusted image '<path>'!").
func TestContractUntrustedImages(t *testing.T) {
	dataFile := testtool.QCOW2(t, 1<<30, nil, diskimage.WithDataFile("/var/lib/vz/images/secret.raw"))
	backed := backedQCOW2(t)
	srv := testtool.ServeFiles(t, map[string][]byte{"ext.qcow2": dataFile, "backed.qcow2": backed, "talos.qcow2": testtool.QCOW2(t, 1<<30, nil)})
	dir := t.TempDir()
	s := newSim(t, pvesim.WithDataDir(dir))
	s.enableImport()
	noImports := func(t *testing.T) {
		t.Helper()
		var vols []map[string]any
		s.call("GET", "/nodes/pve/storage/local/content", map[string]string{"content": "import"}).data(t, &vols)
		for _, v := range vols {
			require.Equal(t, "local:import/talos.qcow2", v["volid"], "a refused image is not kept")
		}
	}

	t.Run("download-url", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/storage/local/download-url",
			map[string]string{"url": srv.URL + "/ext.qcow2", "content": "import", "filename": "ext.qcow2"})))
		require.Regexp(t, `^failed to verify file: /var/lib/vz/import/ext\.qcow2\.tmp_dwnl\.\d+: 'data-file' references are not allowed!$`, exit)
		exit, _ = s.waitTask(s.upid(s.call("POST", "/nodes/pve/storage/local/download-url",
			map[string]string{"url": srv.URL + "/backed.qcow2", "content": "import", "filename": "backed.qcow2"})))
		require.Regexp(t, `^failed to verify file: backing file not allowed for untrusted image '/var/lib/vz/import/backed\.qcow2\.tmp_dwnl\.\d+'!$`, exit)
		noImports(t)
	})
	t.Run("upload", func(t *testing.T) {
		body, ctype := multipartUpload(t, [][2]string{{"content", "import"}}, "ext.qcow2", dataFile, false)
		req, err := http.NewRequest("POST", s.URL()+"/nodes/pve/storage/local/upload", body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", ctype)
		exit, log := s.waitTask(s.upid(s.do(req)))
		require.Regexp(t, `^/var/tmp/pveupload-[^/:]+: 'data-file' references are not allowed!$`, exit)
		require.NotContains(t, strings.Join(log, "\n"), "target file:", "the image is checked before it is copied")
		noImports(t)
	})
	t.Run("import-from", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/storage/local/download-url",
			map[string]string{"url": srv.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2"})))
		require.Equal(t, "OK", exit)
		// The file changes on the host after it was downloaded.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "local", "import", "talos.qcow2"), dataFile, 0o644))
		exit, _ = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{
			"vmid": "100", "scsi0": "local-zfs:0,import-from=local:import/talos.qcow2"})))
		require.Equal(t, "unable to create VM 100 - /var/lib/vz/import/talos.qcow2: 'data-file' references are not allowed!", exit)
		require.Equal(t, http.StatusInternalServerError, s.call("GET", "/nodes/pve/qemu/100/config", nil).status, "the failed create leaves no VM")

		exit, _ = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "101"})))
		require.Equal(t, "OK", exit)
		exit, _ = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/101/config", map[string]string{
			"scsi0": "local-zfs:0,import-from=local:import/talos.qcow2"})))
		require.Equal(t, "/var/lib/vz/import/talos.qcow2: 'data-file' references are not allowed!", exit)
		a := s.call("PUT", "/nodes/pve/qemu/101/config", map[string]string{"scsi0": "local-zfs:0,import-from=local:import/talos.qcow2"})
		require.Equal(t, http.StatusInternalServerError, a.status, a.body)
		require.Equal(t, "/var/lib/vz/import/talos.qcow2: 'data-file' references are not allowed!", a.reason)
		require.NotContains(t, s.config("101"), "scsi0")
	})
}

// TestContractUploadedImageQemuCannotOpen pins pve-storage 9.1
// src/PVE/Storage/Common.pm run_qemu_img_json, which file_size_info runs
// through qemu_img_info: when `qemu-img info` prints nothing on stdout, its
// stderr is the error, and for an upload the imgcopy task ends with it. A
// qcow2 whose header qemu's qcow2_do_open refuses (here an L1 table too
// small for the virtual size) fails with "qemu-img: Could not open
// '<file>': <qemu's reason>", and nothing is kept.
func TestContractUploadedImageQemuCannotOpen(t *testing.T) {
	img := testtool.QCOW2(t, 1<<30, []byte("nixos"))
	copy(img[24:32], []byte{0, 0, 1, 0, 0, 0, 0, 0}) // virtual size 1 TiB, L1 table still sized for 1 GiB
	s := newSim(t)
	s.enableImport()
	body, ctype := multipartUpload(t, [][2]string{{"content", "import"}}, "broken.qcow2", img, false)
	req, err := http.NewRequest("POST", s.URL()+"/nodes/pve/storage/local/upload", body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", ctype)
	exit, log := s.waitTask(s.upid(s.do(req)))
	require.Regexp(t, `^qemu-img: Could not open '/var/tmp/pveupload-[^/:']+': L1 table is too small$`, exit)
	require.NotContains(t, strings.Join(log, "\n"), "target file:", "the image is checked before it is copied")
	var vols []map[string]any
	s.call("GET", "/nodes/pve/storage/local/content", map[string]string{"content": "import"}).data(t, &vols)
	require.Empty(t, vols)
}
