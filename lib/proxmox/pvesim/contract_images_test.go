package pvesim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
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
