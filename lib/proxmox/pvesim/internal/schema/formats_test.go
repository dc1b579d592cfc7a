package schema

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// formatCase pins one verifier: values PVE accepts and, for values it
// refuses, the message its verifier dies with (without the newline).
type formatCase struct {
	format  string
	source  string // the Perl function the checker mirrors
	valid   []string
	invalid map[string]string
}

func formatCases() []formatCase {
	return []formatCase{
		{"string", "pve-common JSONSchema.pm register_format('string', sub {})", []string{"", "anything at all"}, nil},
		{"urlencoded", "pve-common JSONSchema.pm pve_verify_urlencoded", []string{"ssh-ed25519%20AAAA%20me%40host", "%zz", ""},
			map[string]string{"ssh-ed25519 AAAA": "invalid urlencoded string: ssh-ed25519 AAAA", "a/b": "invalid urlencoded string: a/b"}},
		{"pve-configid", "pve-common JSONSchema.pm pve_verify_configid", []string{"net0", "scsi-1", "Ab"},
			map[string]string{"0net": "invalid configuration ID '0net'", "a": "invalid configuration ID 'a'", "a.b": "invalid configuration ID 'a.b'"}},
		{"pve-storage-id", "pve-common JSONSchema.pm parse_storage_id (parse_id)", []string{"local", "local-zfs", "a.b_c1"},
			map[string]string{"l": "storage ID 'l' cannot be shorter than 2 characters", "1local": "storage ID '1local' contains illegal characters",
				"local-": "storage ID 'local-' contains illegal characters"}},
		{"pve-bridge-id", "pve-common JSONSchema.pm parse_bridge_id", []string{"vmbr0", "vnet.1_a-b"},
			map[string]string{"vmbr 0": "invalid bridge ID 'vmbr 0'", "br/0": "invalid bridge ID 'br/0'"}},
		{"pve-vmid", "pve-common JSONSchema.pm pve_verify_vmid", []string{"100", "999999999"},
			map[string]string{"99": "value does not look like a valid VM ID", "1000000000": "value does not look like a valid VM ID", "0100": "value does not look like a valid VM ID"}},
		{"pve-node", "pve-common JSONSchema.pm pve_verify_node_name", []string{"pve", "node-1", "A"},
			map[string]string{"pve.lan": "value does not look like a valid node name", "-pve": "value does not look like a valid node name"}},
		{"storage-pair", "pve-common JSONSchema.pm verify_storagepair (parse_idmap)", []string{"1", "local", "local:local-zfs"},
			map[string]string{"x": "entry 'x' contains invalid ID - storage ID 'x' cannot be shorter than 2 characters\n\n",
				"local:1bad": "entry 'local:1bad' contains invalid ID - storage ID '1bad' contains illegal characters\n\n"}},
		{"mac-addr", "pve-common JSONSchema.pm pve_verify_mac_addr", []string{"BC:24:11:00:00:01", "02:00:00:00:00:0a"},
			map[string]string{"01:00:00:00:00:00": "value does not look like a valid unicast MAC address", "bc:24:11:00:00": "value does not look like a valid unicast MAC address"}},
		{"ipv4", "pve-common JSONSchema.pm pve_verify_ipv4", []string{"192.168.1.1", "0.0.0.0", "255.255.255.255"},
			map[string]string{"256.1.1.1": "value does not look like a valid IPv4 address", "192.168.1.1/24": "value does not look like a valid IPv4 address",
				"01.1.1.1": "value does not look like a valid IPv4 address"}},
		{"ipv6", "pve-common JSONSchema.pm pve_verify_ipv6", []string{"::", "::1", "fd00::1", "2001:db8:0:0:0:0:0:1", "::ffff:192.0.2.1", "fe80::1:2:3:4:5:6"},
			map[string]string{"fd00::1::2": "value does not look like a valid IPv6 address", "192.0.2.1": "value does not look like a valid IPv6 address",
				"12345::": "value does not look like a valid IPv6 address"}},
		{"ip", "pve-common JSONSchema.pm pve_verify_ip", []string{"10.0.0.1", "fd00::1"},
			map[string]string{"pve.lan": "value does not look like a valid IP address", "10.0.0.1/8": "value does not look like a valid IP address"}},
		{"CIDRv4", "pve-common JSONSchema.pm pve_verify_cidrv4", []string{"10.0.0.0/8", "192.168.1.10/32"},
			map[string]string{"10.0.0.0/7": "value does not look like a valid IPv4 CIDR network", "10.0.0.0/33": "value does not look like a valid IPv4 CIDR network",
				"10.0.0.0": "value does not look like a valid IPv4 CIDR network"}},
		{"CIDRv6", "pve-common JSONSchema.pm pve_verify_cidrv6", []string{"fd00::/64", "fd00::1/128"},
			map[string]string{"fd00::/7": "value does not look like a valid IPv6 CIDR network", "fd00::/129": "value does not look like a valid IPv6 CIDR network"}},
		{"CIDR", "pve-common JSONSchema.pm pve_verify_cidr", []string{"10.0.0.0/24", "fd00::/64"},
			map[string]string{"10.0.0.1": "value does not look like a valid CIDR network", "fd00::/4": "value does not look like a valid CIDR network"}},
		{"pve-ipv4-config", "pve-common JSONSchema.pm pve_verify_ipv4_config", []string{"dhcp", "manual", "192.168.1.10/24"},
			map[string]string{"auto": "value does not look like a valid ipv4 network configuration", "192.168.1.10": "value does not look like a valid ipv4 network configuration"}},
		{"pve-ipv6-config", "pve-common JSONSchema.pm pve_verify_ipv6_config", []string{"auto", "dhcp", "manual", "fd00::10/64"},
			map[string]string{"fd00::10": "value does not look like a valid ipv6 network configuration", "slaac": "value does not look like a valid ipv6 network configuration"}},
		{"email", "pve-common JSONSchema.pm pve_verify_email", []string{"root@example.com", "a.b+c@x"},
			map[string]string{"root": "value does not look like a valid email address", "a@b_c.com": "value does not look like a valid email address"}},
		{"dns-name", "pve-common JSONSchema.pm pve_verify_dns_name", []string{"talos-cp-1", "pve.example.com"},
			map[string]string{"talos_cp": "value does not look like a valid DNS name", "a..b": "value does not look like a valid DNS name", "-a": "value does not look like a valid DNS name"}},
		{"address", "pve-common JSONSchema.pm pve_verify_address", []string{"1.1.1.1", "fd00::53", "dns.lan"},
			map[string]string{"dns_lan": "value does not look like a valid address: dns_lan", "1.1.1.1/32": "value does not look like a valid address: 1.1.1.1/32"}},
		{"disk-size", "pve-common JSONSchema.pm pve_verify_disk_size (parse_size)", []string{"20G", "512", "1.5T", "4GiB", "100KiB"},
			map[string]string{"20GB": "value does not look like a valid disk size: 20GB", "+1G": "value does not look like a valid disk size: +1G", "1P": "value does not look like a valid disk size: 1P"}},
		{"pve-startup-order", "pve-common JSONSchema.pm pve_verify_startup_order (pve_parse_startup_order)", []string{"1", "order=2,up=30", "up=10,down=5", "order=1,,"},
			map[string]string{"0": "unable to parse startup options", "": "unable to parse startup options", "order=a": "unable to parse startup options",
				"order=1;up=2": "unable to parse startup options", "delay=3": "unable to parse startup options"}},
		{"pve-tag", "pve-common JSONSchema.pm pve_verify_tag", []string{"talos", "k8s_1.30+x", "_a"},
			map[string]string{"bad/tag": "invalid characters in tag", "-a": "invalid characters in tag"}},
		{"pve-task-status-type", "pve-common JSONSchema.pm verify_task_status_type", []string{"ok", "ERROR", "warning", "unknown"},
			map[string]string{"running": "invalid status 'running'"}},
		{"pve-realm", "pve-access-control Auth/Plugin.pm pve_verify_realm", []string{"pam", "pve", "my-ldap.1"},
			map[string]string{"p": "value does not look like a valid realm", "1pam": "value does not look like a valid realm"}},
		{"pve-userid", "pve-access-control Auth/Plugin.pm verify_username", []string{"root@pam", "terraform@pve"},
			map[string]string{"a@": "user name 'a@' is too short", "root": "value 'root' does not look like a valid user name",
				"a:b@pve": "value 'a:b@pve' does not look like a valid user name", strings.Repeat("u", 62) + "@pve": "user name '" + strings.Repeat("u", 62) + "@pve' is too long (66 > 64)"}},
		{"pve-tokenid", "pve-access-control AccessControl.pm pve_verify_tokenid", []string{"root@pam!infra", "tf@pve!ci-1"},
			map[string]string{"root@pam": "value 'root@pam' does not look like a valid token ID", "root@pam!1x": "value 'root@pam!1x' does not look like a valid token ID"}},
		{"pve-poolid", "pve-access-control AccessControl.pm verify_poolname", []string{"lab", "lab/k8s/nodes", "a.b-c_d"},
			map[string]string{"a/b/c/d": "pool name 'a/b/c/d' nested too deeply (max levels = 3)", "lab pool": "pool name 'lab pool' contains invalid characters",
				"lab/": "pool name 'lab/' contains invalid characters"}},
		{"pve-priv", "pve-access-control AccessControl.pm verify_privname", []string{"VM.Allocate", "Sys.Audit", "Permissions.Modify", "Mapping.Use"},
			map[string]string{"VM.Monitor": "invalid privilege 'VM.Monitor'", "vm.audit": "invalid privilege 'vm.audit'"}},
		{"pve-storage-path", "pve-storage Plugin.pm verify_path", []string{"/mnt/pve/nfs", "/a;b"},
			map[string]string{"mnt/pve": "value does not look like a valid absolute path", "/": "value does not look like a valid absolute path", "/;x": "value does not look like a valid absolute path"}},
		{"pve-storage-server", "pve-storage Plugin.pm verify_server", []string{"10.0.0.5", "fd00::5", "nas.lan"},
			map[string]string{"nas.lan:2049": "value does not look like a valid server name or IP address"}},
		{"pve-storage-portal-dns", "pve-storage Plugin.pm verify_portal_dns (PVE::Tools::parse_host_and_port)", []string{"10.0.0.5", "10.0.0.5:6789", "ceph-1.lan:3300", "[fd00::5]:6789", "fd00::5", "fd00::5.6789"},
			map[string]string{"ceph 1": "value does not look like a valid portal address", "host:port": "value does not look like a valid portal address"}},
		{"pve-storage-content", "pve-storage Plugin.pm verify_content", []string{"images", "iso", "import", "none", "snippets"},
			map[string]string{"image": "invalid content type 'image'", "Images": "invalid content type 'Images'"}},
		{"pve-storage-options", "pve-storage Plugin.pm verify_options", []string{"vers=4.2", "noatime,nodiratime"},
			map[string]string{"vers=4 soft": "invalid options 'vers=4 soft'", "": "invalid options ''"}},
		{"pve-volume-id", "pve-storage Plugin.pm parse_volume_id", []string{"local:import/talos.qcow2", "local-zfs:vm-100-disk-0", "local:snippets/user.yaml"},
			map[string]string{"talos.qcow2": "unable to parse volume ID 'talos.qcow2'", "l:x": "unable to parse volume ID 'l:x'", "local:": "unable to parse volume ID 'local:'"}},
		{"pve-dir-override", "pve-storage Plugin.pm verify_dir_override", []string{"iso=isos", "images=vm/images", "backup=.dump"},
			map[string]string{"isos=x": "invalid content type 'isos'", "iso=a/..": "invalid override 'iso=a/..'", "iso": "invalid override 'iso'",
				"iso=" + strings.Repeat("a", 255): "invalid override 'iso=" + strings.Repeat("a", 255) + "'"}},
		{"pve-volume-id-or-absolute-path", "qemu-server QemuServer.pm verify_volume_id_or_absolute_path", []string{"/var/lib/vz/x.qcow2", "local:import/t.qcow2"},
			map[string]string{"x.qcow2": "unable to parse volume ID 'x.qcow2'", "none": "unable to parse volume ID 'none'"}},
		{"pve-volume-id-or-qm-path", "qemu-server QemuServer.pm verify_volume_id_or_qm_path", []string{"none", "cdrom", "/dev/sdb", "local-zfs:0", "local:iso/x.iso"},
			map[string]string{"x.iso": "unable to parse volume ID 'x.iso'", "cdrom0": "unable to parse volume ID 'cdrom0'"}},
		{"pve-cpuset", "qemu-server QemuServer.pm pve_verify_cpuset (PVE::CpuSet::parse_cpuset)", []string{"0", "0-3", "0,2,4-5", " 1 , 3-4 ", "1,", ""},
			map[string]string{"3-1": "unable to parse cpuset option", "0;1": "unable to parse cpuset option", ",1": "unable to parse cpuset option", "a": "unable to parse cpuset option"}},
		{"pve-hotplug-features", "qemu-server QemuServer.pm pve_verify_hotplug_features (parse_hotplug_features)", []string{"0", "1", "network,disk,usb", "cpu;memory cloudinit", ""},
			map[string]string{"2": "unable to parse hotplug option", "network,pci": "unable to parse hotplug option"}},
		{"pve-qm-bootdev", "qemu-server QemuServer.pm verify_bootdev", []string{"scsi0", "ide2", "virtio15", "sata5", "net31", "usb13", "hostpci15"},
			map[string]string{"efidisk0": "invalid boot device 'efidisk0'", "tpmstate0": "invalid boot device 'tpmstate0'", "scsi31": "invalid boot device 'scsi31'",
				"net32": "invalid boot device 'net32'", "net01": "invalid boot device 'net01'", "unused0": "invalid boot device 'unused0'", "cdrom": "invalid boot device 'cdrom'"}},
		{"pve-qm-bootdisk", "qemu-server Drive.pm verify_bootdisk (is_valid_drivename)", []string{"scsi0", "ide3", "efidisk0", "tpmstate0", "virtio0"},
			map[string]string{"ide4": "invalid boot disk 'ide4'", "unused0": "invalid boot disk 'unused0'", "net0": "invalid boot disk 'net0'"}},
		{"pve-phys-bits", "qemu-server CPUConfig.pm parse_phys_bits", []string{"host", "8", "64", "40"},
			map[string]string{"7": "value must be an integer between 8 and 64 or 'host'", "65": "value must be an integer between 8 and 64 or 'host'",
				"100": "value must be an integer between 8 and 64 or 'host'", "Host": "value must be an integer between 8 and 64 or 'host'"}},
	}
}

func TestFormatCheckers(t *testing.T) {
	for _, tc := range formatCases() {
		t.Run(tc.format, func(t *testing.T) {
			for _, v := range tc.valid {
				require.NoError(t, checkFormat(tc.format, v), "%s accepts %q (%s)", tc.format, v, tc.source)
			}
			for v, msg := range tc.invalid {
				err := checkFormat(tc.format, v)
				require.Error(t, err, "%s refuses %q (%s)", tc.format, v, tc.source)
				require.Equal(t, msg, err.Error(), "%s on %q (%s)", tc.format, v, tc.source)
			}
		})
	}
}

// TestFormatListAndOpt pins check_format's "-list" and "-opt" forms and its
// refusal of a format nobody registered (pve-common JSONSchema.pm check_format).
func TestFormatListAndOpt(t *testing.T) {
	require.NoError(t, checkFormat("address-list", "1.1.1.1 fd00::53,dns.lan;9.9.9.9"))
	require.NoError(t, checkFormat("address-list", ""), "an empty list is allowed")
	require.EqualError(t, checkFormat("address-list", "1.1.1.1 dns_lan"), "value does not look like a valid address: dns_lan")
	require.EqualError(t, checkFormat("pve-configid-list", "net0,1x"), "invalid configuration ID '1x'")
	require.EqualError(t, checkFormat("pve-priv-list", "VM.Audit,VM.Nope"), "invalid privilege 'VM.Nope'")
	require.EqualError(t, checkFormat("pve-qm-bootdev-list", "scsi0;efidisk0"), "invalid boot device 'efidisk0'")
	require.EqualError(t, checkFormat("storage-pair-list", "local:local-zfs,x"), "entry 'x' contains invalid ID - storage ID 'x' cannot be shorter than 2 characters\n\n")
	require.NoError(t, checkFormat("pve-node-opt", ""))
	require.EqualError(t, checkFormat("pve-node-opt", "a.b"), "value does not look like a valid node name")
	require.EqualError(t, checkFormat("pve-made-up", "x"), "undefined format 'pve-made-up'")
	require.False(t, hasChecker("pve-made-up"))
}

// TestEveryVerifierIsTested fails when a verifier has no table case, so no
// checker is added without its accepted and refused values.
func TestEveryVerifierIsTested(t *testing.T) {
	tested := map[string]bool{}
	for _, tc := range formatCases() {
		require.NotEmpty(t, tc.source, tc.format)
		tested[tc.format] = true
	}
	var untested []string
	for name := range verifiers {
		if !tested[name] {
			untested = append(untested, name)
		}
	}
	sort.Strings(untested)
	require.Empty(t, untested)
}
