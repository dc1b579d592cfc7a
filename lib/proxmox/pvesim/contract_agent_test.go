package pvesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// agentCalls are the guest agent methods the simulator answers, as
// API2/Qemu/Agent.pm registers them (ping is a POST).
var agentCalls = []struct{ method, cmd string }{
	{"POST", "ping"}, {"GET", "info"}, {"GET", "network-get-interfaces"},
}

// TestContractAgentErrors pins QemuServer/Agent.pm assert_agent_available,
// which every agent command runs after load_config: "No QEMU guest agent
// configured" when the config has no agent option at all, "VM <id> is not
// running", then "QEMU guest agent is not running" when guest-ping fails -
// an agent option that disables the agent (no virtio-serial channel) and a
// guest still booting both end there.
func TestContractAgentErrors(t *testing.T) {
	tests := []struct {
		name    string
		boot    time.Duration
		prepare func(s *sim)
		vmid    string
		msg     string
	}{
		{name: "missing VM", vmid: "999", msg: "Configuration file 'nodes/pve/qemu-server/999.conf' does not exist"},
		{name: "no agent option", prepare: func(s *sim) { s.setConfig(map[string]string{"delete": "agent"}) },
			msg: "No QEMU guest agent configured"},
		{name: "not running", msg: "VM 100 is not running"},
		{name: "agent disabled", prepare: func(s *sim) { s.setConfig(map[string]string{"agent": "0"}); s.requireRunning() },
			msg: "QEMU guest agent is not running"},
		{name: "guest still booting", boot: time.Hour, prepare: (*sim).requireRunning,
			msg: "QEMU guest agent is not running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := powerSim(t, pvesim.WithGuestBootDelay(tt.boot))
			if tt.prepare != nil {
				tt.prepare(s)
			}
			vmid := "100"
			if tt.vmid != "" {
				vmid = tt.vmid
			}
			for _, c := range agentCalls {
				a := s.call(c.method, "/nodes/pve/qemu/"+vmid+"/agent/"+c.cmd, nil)
				require.Equal(t, http.StatusInternalServerError, a.status, "%s: %s", c.cmd, a.body)
				require.Equal(t, tt.msg, a.reason, c.cmd)
			}
		})
	}
}

// setConfig updates VM 100's config synchronously.
func (s *sim) setConfig(params map[string]string) {
	s.t.Helper()
	a := s.call("PUT", vmBase+"/config", params)
	require.Equal(s.t, http.StatusOK, a.status, a.body)
}

// TestContractAgentAnswers pins what the agent answers once the guest has
// booted: API2/Qemu/Agent.pm wraps qemu-ga's return value as {"result":
// ...}; guest-ping returns {}, guest-info the agent version and its
// commands, guest-network-get-interfaces every interface with its
// hardware-address (lower case) and ip-addresses. The addresses are the
// ones cloud-init configures from ipconfigN (QemuServer/Cloudinit.pm
// nocloud_network names net<N>'s interface eth<N> by its MAC), plus
// loopback and the IPv6 link-local address the kernel adds.
func TestContractAgentAnswers(t *testing.T) {
	s := powerSim(t)
	s.setConfig(map[string]string{"net1": "model=virtio,macaddr=BC:24:11:00:00:02,bridge=vmbr0",
		"ipconfig1": "ip=dhcp,ip6=2001:db8::10/64"})
	s.requireRunning()

	var ping map[string]any
	s.call("POST", vmBase+"/agent/ping", nil).data(t, &ping)
	require.Equal(t, map[string]any{"result": map[string]any{}}, ping)

	var info struct {
		Result struct {
			Version  string `json:"version"`
			Commands []struct {
				Name    string `json:"name"`
				Enabled bool   `json:"enabled"`
				Success bool   `json:"success-response"`
			} `json:"supported_commands"`
		} `json:"result"`
	}
	s.call("GET", vmBase+"/agent/info", nil).data(t, &info)
	require.NotEmpty(t, info.Result.Version)
	answers := map[string]bool{}
	for _, c := range info.Result.Commands {
		require.True(t, c.Enabled, c.Name)
		answers[c.Name] = c.Success
	}
	require.True(t, answers["guest-network-get-interfaces"])
	require.True(t, answers["guest-ping"])
	require.Contains(t, answers, "guest-shutdown")
	require.False(t, answers["guest-shutdown"], "qemu-ga does not answer guest-shutdown")
	require.False(t, answers["guest-suspend-ram"], "nor the suspend commands")

	type ipAddr struct {
		Type   string `json:"ip-address-type"`
		Addr   string `json:"ip-address"`
		Prefix int    `json:"prefix"`
	}
	var nics struct {
		Result []struct {
			Name  string         `json:"name"`
			MAC   string         `json:"hardware-address"`
			Addrs []ipAddr       `json:"ip-addresses"`
			Stats map[string]any `json:"statistics"`
		} `json:"result"`
	}
	s.call("GET", vmBase+"/agent/network-get-interfaces", nil).data(t, &nics)
	require.Len(t, nics.Result, 3)
	lo, eth0, eth1 := nics.Result[0], nics.Result[1], nics.Result[2]
	require.Equal(t, "lo", lo.Name)
	require.Equal(t, "00:00:00:00:00:00", lo.MAC)
	require.Equal(t, []ipAddr{{"ipv4", "127.0.0.1", 8}, {"ipv6", "::1", 128}}, lo.Addrs)
	require.Equal(t, "eth0", eth0.Name)
	require.Equal(t, "bc:24:11:00:00:01", eth0.MAC)
	require.Equal(t, []ipAddr{{"ipv4", "192.168.1.50", 24}, {"ipv6", "fe80::be24:11ff:fe00:1", 64}}, eth0.Addrs)
	require.Contains(t, eth0.Stats, "rx-bytes")
	require.Equal(t, "eth1", eth1.Name)
	require.Len(t, eth1.Addrs, 3)
	require.Equal(t, "ipv4", eth1.Addrs[0].Type, "a DHCP lease")
	require.Equal(t, ipAddr{"ipv6", "2001:db8::10", 64}, eth1.Addrs[1])
	require.Equal(t, ipAddr{"ipv6", "fe80::be24:11ff:fe00:2", 64}, eth1.Addrs[2])
}

// TestContractAgentPermissions pins the schema's rule for the agent
// commands: VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted on
// /vms/{vmid} (API2/Qemu/Agent.pm register_command); VM.Audit alone is
// not enough.
func TestContractAgentPermissions(t *testing.T) {
	setup := withToken("VMAuditOnly")
	setup.Roles = map[string][]string{"VMAuditOnly": {"VM.Audit"}}
	s := powerSim(t, pvesim.WithSetup(setup))
	s.requireRunning()
	s.auth = limitedAuth
	for _, c := range agentCalls {
		a := s.call(c.method, vmBase+"/agent/"+c.cmd, nil)
		require.Equal(t, http.StatusForbidden, a.status, c.cmd)
		require.Equal(t, "Permission check failed (/vms/100, VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted)", a.reason, c.cmd)
	}
}
