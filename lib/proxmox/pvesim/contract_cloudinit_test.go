package pvesim_test

import (
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// dump is VM 100's generated cloud-init config of a type.
func (s *sim) dump(typ string) string {
	s.t.Helper()
	var out string
	s.call("GET", vmBase+"/cloudinit/dump", map[string]string{"type": typ}).data(s.t, &out)
	return out
}

// sshKeys are two keys as clients send sshkeys: percent-encoded, one a line.
const sshKeys = "ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIA%20a%40b%0Assh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIB%20c%40d%0A"

// TestContractCloudinitDumpUser pins QemuServer/Cloudinit.pm
// cloudinit_userdata as cloudinit/dump?type=user returns it: hostname and
// fqdn from name and searchdomain (get_hostname_fqdn), user, the password
// as stored (update_vm_api hashes it with encrypt_pw, "$5$"), the
// unescaped ssh keys, chpasswd, "users: [default]" unless the user is
// root (then "disable_root: False"), package_upgrade unless ciupgrade=0.
func TestContractCloudinitDumpUser(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   string // with PASSWORD for the hashed password
	}{
		{name: "user, password and keys", params: map[string]string{"searchdomain": "example.org", "cipassword": "s3cret", "sshkeys": sshKeys},
			want: "#cloud-config\nhostname: web\nmanage_etc_hosts: true\nfqdn: web.example.org\nuser: admin\npassword: PASSWORD\n" +
				"ssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA a@b\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB c@d\n" +
				"chpasswd:\n  expire: False\nusers:\n  - default\npackage_upgrade: true\n"},
		{name: "root without upgrade, a dotted name", params: map[string]string{"ciuser": "root", "ciupgrade": "0", "name": "db.lab.example"},
			want: "#cloud-config\nhostname: db\nmanage_etc_hosts: true\nfqdn: db.lab.example\nuser: root\ndisable_root: False\n" +
				"chpasswd:\n  expire: False\n"},
		{name: "no name, no user", params: map[string]string{"delete": "name,ciuser"},
			want: "#cloud-config\nhostname: VM100\nmanage_etc_hosts: true\nfqdn: VM100\nchpasswd:\n  expire: False\nusers:\n  - default\npackage_upgrade: true\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := powerSim(t)
			s.setConfig(tt.params)
			got := s.dump("user")
			if strings.Contains(tt.want, "PASSWORD") {
				require.Regexp(t, `(?m)^password: \$5\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{43}$`, got)
				hashed := strings.SplitN(strings.SplitN(got, "password: ", 2)[1], "\n", 2)[0]
				tt.want = strings.Replace(tt.want, "PASSWORD", hashed, 1)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// TestContractCloudinitPasswordMasked pins the masking of cipassword: GET
// config shows "**********" (API2/Qemu.pm vm_config), and the dump masks
// the password for a caller without VM.Config.Cloudinit
// (cloudinit_generated_config_dump).
func TestContractCloudinitPasswordMasked(t *testing.T) {
	s := powerSim(t, pvesim.WithSetup(withToken("PVEAuditor")))
	s.setConfig(map[string]string{"cipassword": "s3cret"})
	require.Equal(t, "**********", s.config("100")["cipassword"])
	require.Contains(t, s.dump("user"), "password: $5$")
	s.auth = limitedAuth
	require.Contains(t, s.dump("user"), "password: **********\n")
}

// TestContractCloudinitDumpNetwork pins the network and meta dumps for
// both formats (Cloudinit.pm dump_cloudinit_config): nocloud_network (v1,
// net<N> as eth<N> by MAC, netmask from the prefix, a nameserver entry from
// nameserver/searchdomain or the host's resolv.conf) and
// configdrive2_network (ENI); the meta-data's instance ID is the SHA-1 of
// the (unmasked) user-data and network config.
func TestContractCloudinitDumpNetwork(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]string
		network string
		meta    func(id string) string
	}{
		{name: "nocloud", params: map[string]string{"nameserver": "1.1.1.1 9.9.9.9", "searchdomain": "example.org",
			"net1": "model=virtio,macaddr=BC:24:11:00:00:02,bridge=vmbr0", "ipconfig1": "ip=dhcp,ip6=auto",
			"net2": "model=virtio,macaddr=BC:24:11:00:00:03,bridge=vmbr0"},
			network: "version: 1\nconfig:\n" +
				"    - type: physical\n      name: eth0\n      mac_address: 'bc:24:11:00:00:01'\n      subnets:\n" +
				"      - type: static\n        address: '192.168.1.50'\n        netmask: '255.255.255.0'\n        gateway: '192.168.1.1'\n" +
				"    - type: physical\n      name: eth1\n      mac_address: 'bc:24:11:00:00:02'\n      subnets:\n" +
				"      - type: dhcp4\n      - type: ipv6_slaac\n" +
				"    - type: nameserver\n      address:\n      - '1.1.1.1'\n      - '9.9.9.9'\n      search:\n      - 'example.org'\n",
			meta: func(id string) string { return "instance-id: " + id + "\n" }},
		{name: "nocloud with the host's DNS", params: map[string]string{"ipconfig0": "ip6=2001:db8::5/64,gw6=2001:db8::1"},
			network: "version: 1\nconfig:\n" +
				"    - type: physical\n      name: eth0\n      mac_address: 'bc:24:11:00:00:01'\n      subnets:\n" +
				"      - type: static6\n        address: '2001:db8::5/64'\n        gateway: '2001:db8::1'\n" +
				"    - type: nameserver\n      address:\n      - '192.168.1.1'\n      search:\n      - 'pvesim.lan'\n",
			meta: func(id string) string { return "instance-id: " + id + "\n" }},
		{name: "configdrive2", params: map[string]string{"citype": "configdrive2", "nameserver": "1.1.1.1", "searchdomain": "example.org"},
			network: "auto lo\niface lo inet loopback\n\n        dns_nameservers 1.1.1.1\n        dns_search example.org\n" +
				"auto eth0\niface eth0 inet static\n        address 192.168.1.50\n        netmask 255.255.255.0\n        gateway 192.168.1.1\n",
			meta: func(id string) string {
				return "{\n     \"uuid\": \"" + id + "\",\n     \"network_config\": { \"content_path\": \"/content/0000\" }\n}\n"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := powerSim(t)
			s.setConfig(tt.params)
			network := s.dump("network")
			require.Equal(t, tt.network, network)
			sum := sha1.Sum([]byte(s.dump("user") + network))
			require.Equal(t, tt.meta(hex.EncodeToString(sum[:])), s.dump("meta"))
		})
	}
}

// TestContractCloudinitPending pins GET and PUT .../cloudinit
// (API2/Qemu.pm cloudinit_pending and cloudinit_update): on a running VM,
// vmconfig_hotplug_pending applies cloud-init options at once and records
// in the config's cloudinit section the values the current image was
// generated from; GET cloudinit lists the options of $cloudinitoptions
// with that value and the new one as pending, added options with only a
// pending value, deleted ones with delete=1 (ipconfigN is not in
// $cloudinitoptions: a changed one is not listed). PUT cloudinit
// regenerates the image and clears the record; so does the next start.
func TestContractCloudinitPending(t *testing.T) {
	s := powerSim(t)
	s.setConfig(map[string]string{"sshkeys": sshKeys, "cipassword": "s3cret"})
	var items []map[string]any
	s.call("GET", vmBase+"/cloudinit", nil).data(t, &items)
	require.ElementsMatch(t, []map[string]any{
		{"key": "ciuser", "value": "admin"},
		{"key": "cipassword", "value": "**********"},
		{"key": "sshkeys", "value": sshKeys},
	}, items)

	s.requireRunning()
	s.setConfig(map[string]string{"ciuser": "bob", "nameserver": "1.1.1.1", "delete": "sshkeys",
		"ipconfig0": "ip=192.168.1.51/24,gw=192.168.1.1"})
	var pending []map[string]any
	s.call("GET", vmBase+"/cloudinit", nil).data(t, &pending)
	require.ElementsMatch(t, []map[string]any{
		{"key": "ciuser", "value": "admin", "pending": "bob"},
		{"key": "cipassword", "value": "**********"},
		{"key": "nameserver", "pending": "1.1.1.1"},
		{"key": "sshkeys", "delete": float64(1)},
	}, pending)

	a := s.call("PUT", vmBase+"/cloudinit", nil)
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Equal(t, "null", string(a.env.Data))
	var after []map[string]any
	s.call("GET", vmBase+"/cloudinit", nil).data(t, &after)
	require.ElementsMatch(t, []map[string]any{
		{"key": "ciuser", "value": "bob"},
		{"key": "cipassword", "value": "**********"},
		{"key": "nameserver", "value": "1.1.1.1"},
	}, after)
}

// TestContractCloudinitUpdateRefusals pins PUT .../cloudinit's checks: the
// schema's VM.Config.Cloudinit, then check_lock inside lock_config.
func TestContractCloudinitUpdateRefusals(t *testing.T) {
	s := powerSim(t, pvesim.WithSetup(withToken("PVEAuditor")))
	s.HoldLock(100, "backup")
	a := s.call("PUT", vmBase+"/cloudinit", nil)
	require.Equal(t, http.StatusInternalServerError, a.status)
	require.Equal(t, "VM is locked (backup)", a.reason)
	s.auth = limitedAuth
	a = s.call("PUT", vmBase+"/cloudinit", nil)
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/vms/100, VM.Config.Cloudinit)", a.reason)
}

// TestSetupForResolvConf checks that the inventory's host has the
// inventory's resolvers in its resolv.conf, which cloud-init's network
// config falls back to (Cloudinit.pm get_dns_conf).
func TestSetupForResolvConf(t *testing.T) {
	inv, err := inventory.Load("../../../homelab.yaml")
	require.NoError(t, err)
	setup := pvesim.SetupFor(inv, false)
	require.Equal(t, []string{"10.10.2.1"}, setup.DNSServers)
	require.Equal(t, []string{"home-infra.net", "local"}, setup.SearchDomains)
}
