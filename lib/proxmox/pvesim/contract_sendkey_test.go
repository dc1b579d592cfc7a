package pvesim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestContractSendkey pins PUT /nodes/{node}/qemu/{vmid}/sendkey as
// API2/Qemu.pm vm_sendkey and QemuServer.pm vm_sendkey answer it: null for
// the key strings Packer's proxmox plugin types (QEMU's QKeyCode names
// joined by '-', 0x numbers, "<"), QEMU's hmp_sendkey "invalid parameter"
// for a name it does not know, "VM <vmid> not running" for a stopped VM,
// the missing config for an unknown VM, skiplock for root@pam only — and the
// VM's lock does not stop it (vm_sendkey takes the config lock, it does not
// check the VM's lock).
func TestContractSendkey(t *testing.T) {
	s := powerSim(t)
	a := s.call("PUT", vmBase+"/sendkey", map[string]string{"key": "ret"})
	require.Equal(t, http.StatusInternalServerError, a.status, a.body)
	require.Equal(t, "VM 100 not running", a.reason)

	s.requireRunning()
	tests := []struct {
		key    string
		status int
		reason string
	}{
		{key: "ret", status: http.StatusOK},
		{key: "shift-a", status: http.StatusOK},
		{key: "ctrl-alt-delete", status: http.StatusOK},
		{key: "spc", status: http.StatusOK},
		{key: "shift-semicolon", status: http.StatusOK},
		{key: "0x1c", status: http.StatusOK},
		{key: "<", status: http.StatusOK},
		{key: "enter", status: http.StatusInternalServerError, reason: "invalid parameter: enter"},
		{key: "shift-A", status: http.StatusInternalServerError, reason: "invalid parameter: A"},
		{key: "ctrl-", status: http.StatusInternalServerError, reason: "invalid parameter: "},
		{key: "0xzz", status: http.StatusInternalServerError, reason: "invalid parameter: 0xzz"},
		{key: "0x1_0", status: http.StatusInternalServerError, reason: "invalid parameter: 0x1_0"},
		{key: "0x100000000", status: http.StatusInternalServerError, reason: "invalid parameter: 0x100000000"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			a := s.call("PUT", vmBase+"/sendkey", map[string]string{"key": tt.key})
			require.Equal(t, tt.status, a.status, a.body)
			if tt.reason != "" {
				require.Equal(t, tt.reason, a.reason)
				return
			}
			require.Equal(t, "null", string(a.env.Data))
		})
	}

	require.True(t, s.HoldLock(100, "backup"))
	a = s.call("PUT", vmBase+"/sendkey", map[string]string{"key": "esc"})
	require.Equal(t, http.StatusOK, a.status, "the VM's lock does not stop sendkey: %s", a.body)
	s.ReleaseLock(100)

	a = s.call("PUT", "/nodes/pve/qemu/999/sendkey", map[string]string{"key": "ret"})
	require.Equal(t, http.StatusInternalServerError, a.status)
	require.Equal(t, "Configuration file 'nodes/pve/qemu-server/999.conf' does not exist", a.reason)

	a = s.call("PUT", vmBase+"/sendkey", map[string]string{})
	require.Equal(t, http.StatusBadRequest, a.status, "key is required")
}

// TestContractSendkeyPermissions pins the schema's check: VM.Console on
// /vms/{vmid}; skiplock is root@pam's alone.
func TestContractSendkeyPermissions(t *testing.T) {
	s := powerSim(t, pvesim.WithSetup(withToken("PVEAuditor")))
	s.requireRunning()
	s.auth = limitedAuth
	a := s.call("PUT", vmBase+"/sendkey", map[string]string{"key": "ret"})
	require.Equal(t, http.StatusForbidden, a.status, a.body)
	require.Equal(t, "Permission check failed (/vms/100, VM.Console)", a.reason)

	v := powerSim(t, pvesim.WithSetup(withToken("PVEVMAdmin")))
	v.requireRunning()
	v.auth = limitedAuth
	a = v.call("PUT", vmBase+"/sendkey", map[string]string{"key": "ret"})
	require.Equal(t, http.StatusOK, a.status, a.body)
	a = v.call("PUT", vmBase+"/sendkey", map[string]string{"key": "ret", "skiplock": "1"})
	require.Equal(t, http.StatusBadRequest, a.status, a.body)
	require.Equal(t, "Only root may use this option.\n", a.env.Errors["skiplock"])
}
