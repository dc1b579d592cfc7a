package schema

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// namedCase validates one VM-create (or storage-update) parameter whose
// format is a property string PVE registers by name.
type namedCase struct {
	format string
	source string // where PVE defines the format
	param  string
	value  string
	want   Errors // nil: accepted
}

func namedCases() []namedCase {
	cpuFlags := "VM-specific CPU flags must be a subset of: aes, amd-no-ssb, amd-ssbd, hv-evmcs, hv-tlbflush, ibpb, md-clear, nested-virt, pcid, pdpe1gb, spec-ctrl, ssbd, virt-ssbd"
	return []namedCase{
		{"pve-qm-ipconfig", "qemu-server QemuServer/Network.pm $ipconfig_fmt", "ipconfig0", "ip=192.168.1.20/24,gw=192.168.1.1", nil},
		{"pve-qm-ipconfig", "", "ipconfig0", "ip=dhcp,ip6=auto", nil},
		{"pve-qm-ipconfig", "", "ipconfig1", "ip6=fd00::20/64,gw6=fd00::1", nil},
		{"pve-qm-ipconfig", "gw requires ip", "ipconfig0", "gw=192.168.1.1", Errors{"ipconfig0": "invalid format - format error\nipconfig0.ip: missing property required by 'ipconfig0.gw'\n"}},
		{"pve-qm-ipconfig", "gw6 requires ip6", "ipconfig0", "ip=dhcp,gw6=fd00::1", Errors{"ipconfig0": "invalid format - format error\nipconfig0.ip6: missing property required by 'ipconfig0.gw6'\n"}},
		{"pve-qm-ipconfig", "ip is pve-ipv4-config", "ipconfig0", "ip=192.168.1.20", Errors{"ipconfig0": "invalid format - format error\nipconfig0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n"}},
		{"pve-qm-ipconfig", "gw is ipv4", "ipconfig0", "ip=10.0.0.2/24,gw=fd00::1", Errors{"ipconfig0": "invalid format - format error\nipconfig0.gw: invalid format - value does not look like a valid IPv4 address\n\n"}},
		{"pve-qm-ipconfig", "ip6 is pve-ipv6-config", "ipconfig0", "ip6=fd00::2", Errors{"ipconfig0": "invalid format - format error\nipconfig0.ip6: invalid format - value does not look like a valid ipv6 network configuration\n\n"}},
		{"pve-qm-ipconfig", "no default key", "ipconfig0", "dhcp", Errors{"ipconfig0": "invalid format - value without key, but schema does not define a default key\n"}},

		{"pve-vm-cpu-conf", "qemu-server QemuServer/CPUConfig.pm $cpu_fmt, validate_vm_cpu_conf", "cpu", "host", nil},
		{"pve-vm-cpu-conf", "", "cpu", "x86-64-v2-AES,flags=+aes;-pcid;+nested-virt", nil},
		{"pve-vm-cpu-conf", "", "cpu", "cputype=EPYC-Rome,hidden=1,phys-bits=host", nil},
		{"pve-vm-cpu-conf", "custom models: none exist in the simulator", "cpu", "custom-fast", Errors{"cpu": "invalid format - Custom cputype 'fast' not found\n"}},
		{"pve-vm-cpu-conf", "unknown built-in", "cpu", "fast", Errors{"cpu": "invalid format - Built-in cputype 'fast' is not defined (missing 'custom-' prefix?)\n"}},
		{"pve-vm-cpu-conf", "cputype missing", "cpu", "hidden=1", Errors{"cpu": "invalid format - CPU is missing cputype\n"}},
		{"pve-vm-cpu-conf", "VM flags limited", "cpu", "host,flags=+avx2", Errors{"cpu": "invalid format - " + cpuFlags + "\n"}},
		{"pve-vm-cpu-conf", "flags pattern", "cpu", "host,flags=avx2", Errors{"cpu": "invalid format - format error\ncpu.flags: value does not match the regex pattern\n"}},
		{"pve-vm-cpu-conf", "reported-model forbidden", "cpu", "host,reported-model=EPYC", Errors{"cpu": "invalid format - Property 'reported-model' not allowed in VM-specific CPU config.\n"}},
		{"pve-vm-cpu-conf", "phys-bits", "cpu", "host,phys-bits=7", Errors{"cpu": "invalid format - format error\ncpu.phys-bits: invalid format - value must be an integer between 8 and 64 or 'host'\n\n"}},

		{"pve-qm-boot", "qemu-server QemuServer.pm $boot_fmt", "boot", "order=scsi0;ide2;net0", nil},
		{"pve-qm-boot", "legacy", "boot", "cdn", nil},
		{"pve-qm-boot", "legacy pattern", "boot", "cdnx", Errors{"boot": "invalid format - format error\nboot.legacy: value does not match the regex pattern\n"}},
		{"pve-qm-boot", "pve-qm-bootdev-list", "boot", "order=scsi0;efidisk0", Errors{"boot": "invalid format - format error\nboot.order: invalid format - invalid boot device 'efidisk0'\n\n"}},

		{"pve-qm-hostpci", "qemu-server QemuServer/PCI.pm $hostpci_fmt", "hostpci0", "0000:01:00.0,pcie=1,x-vga=1,rombar=0", nil},
		{"pve-qm-hostpci", "", "hostpci0", "01:00;02:00.1", nil},
		{"pve-qm-hostpci", "", "hostpci1", "mapping=gpu,pcie=on", nil},
		{"pve-qm-hostpci", "host pattern (lower-case hex)", "hostpci0", "0000:01:00.A", Errors{"hostpci0": "invalid format - format error\nhostpci0.host: value does not match the regex pattern\n"}},
		{"pve-qm-hostpci", "mapping is pve-configid", "hostpci0", "mapping=1gpu", Errors{"hostpci0": "invalid format - format error\nhostpci0.mapping: invalid format - invalid configuration ID '1gpu'\n\n"}},
		{"pve-qm-hostpci", "vendor-id", "hostpci0", "01:00.0,vendor-id=10de", Errors{"hostpci0": "invalid format - format error\nhostpci0.vendor-id: value does not match the regex pattern\n"}},

		{"pve-qm-cicustom", "qemu-server QemuServer.pm $cicustom_fmt", "cicustom", "user=local:snippets/user.yaml,network=local:snippets/net.yaml", nil},
		{"pve-qm-cicustom", "volume IDs", "cicustom", "user=snippets/user.yaml", Errors{"cicustom": "invalid format - format error\ncicustom.user: invalid format - unable to parse volume ID 'snippets/user.yaml'\n\n"}},
		{"pve-qm-cicustom", "unknown key", "cicustom", "vendor=local:snippets/v.yaml,extra=local:snippets/e.yaml", Errors{"cicustom": "invalid format - format error\ncicustom.extra: property is not defined in schema and the schema does not allow additional properties\n"}},

		{"pve-qm-smbios1", "qemu-server QemuServer.pm $smbios1_fmt", "smbios1", "uuid=7b8f0a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b,base64=1,manufacturer=UHJveG1veA==", nil},
		{"pve-qm-smbios1", "uuid pattern", "smbios1", "uuid=not-a-uuid", Errors{"smbios1": "invalid format - format error\nsmbios1.uuid: value does not match the regex pattern\n"}},
		{"pve-qm-smbios1", "base64 fields", "smbios1", "serial=abc def", Errors{"smbios1": "invalid format - format error\nsmbios1.serial: value does not match the regex pattern\n"}},

		{"pve-qm-watchdog", "qemu-server QemuServer.pm $watchdog_fmt", "watchdog", "i6300esb,action=reset", nil},
		{"pve-qm-watchdog", "model enum", "watchdog", "model=ib800", Errors{"watchdog": "invalid format - format error\nwatchdog.model: value 'ib800' does not have a value in the enumeration 'i6300esb, ib700'\n"}},

		{"pve-qm-rng", "qemu-server QemuServer/RNG.pm $rng_fmt", "rng0", "/dev/urandom,max_bytes=1024", nil},
		{"pve-qm-rng", "source required", "rng0", "period=1000", Errors{"rng0": "invalid format - format error\nrng0.source: property is missing and it is not optional\n"}},

		{"pve-qemu-sev-fmt", "qemu-server QemuServer/CPUConfig.pm $sev_fmt", "amd-sev", "snp,allow-smt=0", nil},
		{"pve-qemu-sev-fmt", "type enum", "amd-sev", "type=sev", Errors{"amd-sev": "invalid format - format error\namd-sev.type: value 'sev' does not have a value in the enumeration 'std, es, snp'\n"}},

		{"pve-qemu-tdx-fmt", "qemu-server QemuServer/CPUConfig.pm $tdx_fmt", "intel-tdx", "tdx,attestation=1", nil},
		{"pve-qemu-tdx-fmt", "attestation is not optional", "intel-tdx", "tdx", Errors{"intel-tdx": "invalid format - format error\nintel-tdx.attestation: property is missing and it is not optional\n"}},

		{"pve-qm-ide", "qemu-server Drive.pm $ide_fmt", "cdrom", "local:iso/talos.iso,media=cdrom", nil},
		{"pve-qm-ide", "file is pve-volume-id-or-qm-path", "cdrom", "talos.iso", Errors{"cdrom": "invalid format - format error\ncdrom.file: invalid format - unable to parse volume ID 'talos.iso'\n\n"}},

		{"prune-backups", "pve-storage Storage/Plugin.pm $prune_backups_format, validate_prune_backups", "prune-backups", "keep-last=3,keep-daily=7", nil},
		{"prune-backups", "", "prune-backups", "keep-all=1,keep-last=0", nil},
		{"prune-backups", "keep-all conflicts", "prune-backups", "keep-all=1,keep-last=2", Errors{"prune-backups": "invalid format - keep-all cannot be set together with other options.\n"}},
		{"prune-backups", "minimum", "prune-backups", "keep-last=-1", Errors{"prune-backups": "invalid format - format error\nprune-backups.keep-last: value must have a minimum value of 0\n"}},
	}
}

func TestNamedPropertyStringFormats(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	create := s.methods["POST /nodes/{node}/qemu"]
	storage := s.methods["PUT /storage/{storage}"]
	for _, tc := range namedCases() {
		t.Run(tc.format+" "+tc.value, func(t *testing.T) {
			m, params := create, map[string]any{"node": "pve", "vmid": "100", tc.param: tc.value}
			if tc.param == "prune-backups" {
				m, params = storage, map[string]any{"storage": "local", tc.param: tc.value}
			}
			_, errs := m.Validate(params)
			if tc.want == nil {
				require.Empty(t, errs, tc.source)
				return
			}
			require.Equal(t, tc.want, errs, tc.source)
		})
	}
}

// TestEveryNamedFormatIsTested fails when a named property-string format has
// no accepted and no refused case.
func TestEveryNamedFormatIsTested(t *testing.T) {
	accepted, refused := map[string]bool{}, map[string]bool{}
	for _, tc := range namedCases() {
		if tc.want == nil {
			accepted[tc.format] = true
		} else {
			refused[tc.format] = true
		}
	}
	s, err := Load()
	require.NoError(t, err)
	var missing []string
	for name := range referencedFormats(s.Methods()) {
		if _, ok := namedFormatJSON(name); (ok || name == ideFormat) && (!accepted[name] || !refused[name]) {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing)
}

// TestVerifierFormatsThroughValidate pins how a verifier's message reaches
// the client, for the formats the issue names (JSONSchema.pm check_prop:
// "invalid format - <message>").
func TestVerifierFormatsThroughValidate(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	create := s.methods["POST /nodes/{node}/qemu"]
	tests := []struct {
		param, value, want string
	}{
		{"nameserver", "1.1.1.1 fd00::53", ""},
		{"nameserver", "1.1.1.1,dns_lan", "invalid format - value does not look like a valid address: dns_lan\n"},
		{"startup", "order=1,up=30,down=60", ""},
		{"startup", "order=1,delay=3", "invalid format - unable to parse startup options\n"},
		{"affinity", "0-3,8", ""},
		{"affinity", "3-0", "invalid format - unable to parse cpuset option\n"},
		{"hotplug", "disk,network,usb,memory", ""},
		{"hotplug", "disk,pci", "invalid format - unable to parse hotplug option\n"},
		{"bootdisk", "scsi0", ""},
		{"bootdisk", "scsi99", "invalid format - invalid boot disk 'scsi99'\n"},
		{"tags", "talos;k8s", ""},
		{"sshkeys", "ssh-ed25519%20AAAA%20me%40host", ""},
		{"sshkeys", "ssh-ed25519%20AAAA%20me@host", "invalid format - invalid urlencoded string: ssh-ed25519%20AAAA%20me@host\n"},
		{"sshkeys", "ssh-ed25519 AAAA", "invalid format - invalid urlencoded string: ssh-ed25519 AAAA\n"},
	}
	for _, tt := range tests {
		_, errs := create.Validate(map[string]any{"node": "pve", "vmid": "100", tt.param: tt.value})
		if tt.want == "" {
			require.Empty(t, errs, tt.param+"="+tt.value)
			continue
		}
		require.Equal(t, Errors{tt.param: tt.want}, errs, tt.param+"="+tt.value)
	}
}

// TestInlinePropertyStringFormats pins the QEMU property strings the apidoc
// spells out inline (qemu-server USB.pm $usb_fmt, QemuServer.pm $vga_fmt,
// $audio_fmt, $spice_enhancements_fmt, $serialdesc), which the same
// property-string code checks.
func TestInlinePropertyStringFormats(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	create := s.methods["POST /nodes/{node}/qemu"]
	tests := []struct {
		param, value string
		want         Errors
	}{
		{"usb0", "host=spice,usb3=1", nil},
		{"usb13", "host=1d6b:0002", nil},
		{"usb1", "host=1-2.3", nil},
		{"usb0", "host=usb-stick", Errors{"usb0": "invalid format - format error\nusb0.host: value does not match the regex pattern\n"}},
		{"usb0", "mapping=1stick", Errors{"usb0": "invalid format - format error\nusb0.mapping: invalid format - invalid configuration ID '1stick'\n\n"}},
		{"vga", "qxl,memory=16", nil},
		{"vga", "type=qxl,memory=2", Errors{"vga": "invalid format - format error\nvga.memory: value must have a minimum value of 4\n"}},
		{"vga", "vga", Errors{"vga": "invalid format - format error\nvga.type: value 'vga' does not have a value in the enumeration 'cirrus, qxl, qxl2, qxl3, qxl4, none, serial0, serial1, serial2, serial3, std, virtio, virtio-gl, vmware'\n"}},
		{"audio0", "device=ich9-intel-hda,driver=none", nil},
		{"audio0", "driver=spice", Errors{"audio0": "invalid format - format error\naudio0.device: property is missing and it is not optional\n"}},
		{"spice_enhancements", "foldersharing=1,videostreaming=all", nil},
		{"spice_enhancements", "videostreaming=some", Errors{"spice_enhancements": "invalid format - format error\nspice_enhancements.videostreaming: value 'some' does not have a value in the enumeration 'off, all, filter'\n"}},
		{"serial0", "socket", nil},
		{"serial3", "/dev/ttyS0", nil},
		{"serial0", "tcp:4444", Errors{"serial0": "value does not match the regex pattern\n"}},
		{"serial4", "socket", Errors{"serial4": msgNotDefined}},
	}
	for _, tt := range tests {
		_, errs := create.Validate(map[string]any{"node": "pve", "vmid": "100", tt.param: tt.value})
		if tt.want == nil {
			require.Empty(t, errs, tt.param+"="+tt.value)
			continue
		}
		require.Equal(t, tt.want, errs, tt.param+"="+tt.value)
	}
}
