package pvesim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractNamedFormats pins that every named format of a QEMU parameter
// is checked as PVE checks it, and how the refusal reaches the client: 400
// "Parameter verification failed." with the message on the parameter (and on
// "param.key" for a property-string key).
func TestContractNamedFormats(t *testing.T) {
	s := newSim(t)
	tests := []struct {
		name   string
		param  string
		value  string
		errors map[string]string
	}{
		// qemu-server QemuServer/Network.pm $ipconfig_fmt: gw has requires => 'ip'.
		{"ipconfig gateway without address", "ipconfig0", "gw=192.168.1.1",
			map[string]string{"ipconfig0": "invalid format - format error\nipconfig0.ip: missing property required by 'ipconfig0.gw'\n"}},
		// pve-common JSONSchema.pm pve_verify_ipv4_config: an address needs its prefix.
		{"ipconfig address without prefix", "ipconfig1", "ip=192.168.1.20,gw=192.168.1.1",
			map[string]string{"ipconfig1": "invalid format - format error\nipconfig1.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n"}},
		// qemu-server CPUConfig.pm validate_vm_cpu_conf.
		{"cpu type unknown", "cpu", "Skylake", map[string]string{"cpu": "invalid format - Built-in cputype 'Skylake' is not defined (missing 'custom-' prefix?)\n"}},
		// qemu-server QemuServer.pm verify_bootdev via pve-qm-bootdev-list.
		{"boot from efidisk", "boot", "order=efidisk0", map[string]string{"boot": "invalid format - format error\nboot.order: invalid format - invalid boot device 'efidisk0'\n\n"}},
		// pve-common JSONSchema.pm address-list: pve_verify_address on each member.
		{"nameserver not an address", "nameserver", "1.1.1.1 dns_lan", map[string]string{"nameserver": "invalid format - value does not look like a valid address: dns_lan\n"}},
		// qemu-server PCI.pm $hostpci_fmt: mapping is a pve-configid.
		{"hostpci mapping id", "hostpci3", "mapping=1gpu", map[string]string{"hostpci3": "invalid format - format error\nhostpci3.mapping: invalid format - invalid configuration ID '1gpu'\n\n"}},
		// qemu-server QemuServer.pm $cicustom_fmt: each key is a pve-volume-id.
		{"cicustom not a volume", "cicustom", "user=user.yaml", map[string]string{"cicustom": "invalid format - format error\ncicustom.user: invalid format - unable to parse volume ID 'user.yaml'\n\n"}},
		// pve-common JSONSchema.pm pve_verify_startup_order.
		{"startup order", "startup", "order=1,delay=3", map[string]string{"startup": "invalid format - unable to parse startup options\n"}},
		// qemu-server QemuServer.pm $smbios1_fmt: uuid pattern.
		{"smbios1 uuid", "smbios1", "uuid=1234", map[string]string{"smbios1": "invalid format - format error\nsmbios1.uuid: value does not match the regex pattern\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "9100", tt.param: tt.value})
			require.Equal(t, http.StatusBadRequest, a.status)
			require.Equal(t, "Parameter verification failed.", a.reason)
			require.Equal(t, tt.errors, a.env.Errors)
		})
	}
	// The same keys, well formed, pass verification.
	a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "9100", "ipconfig0": "ip=192.168.1.20/24,gw=192.168.1.1", "ipconfig1": "ip=dhcp,ip6=auto",
		"cpu": "x86-64-v2-AES,flags=+aes", "nameserver": "1.1.1.1 fd00::53", "startup": "order=1,up=30", "smbios1": "uuid=7b8f0a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"})
	require.Equal(t, http.StatusOK, a.status, a.env.Errors)
}
