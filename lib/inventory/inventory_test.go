package inventory_test

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
)

// homelabFile is the real inventory at the repository root.
const homelabFile = "../../homelab.yaml"

func TestHomelabMatchesTheDesign(t *testing.T) {
	inv, err := inventory.Load(homelabFile)
	require.NoError(t, err)

	addr := netip.MustParseAddr
	net := inv.Network
	require.Equal(t, netip.MustParsePrefix("10.10.2.0/24"), net.CIDR)
	require.Equal(t, addr("10.10.2.1"), net.Gateway)
	require.Equal(t, "home-infra.net", net.Domain)
	require.Equal(t, inventory.Range{Start: addr("10.10.2.51"), End: addr("10.10.2.70"), Purpose: "Virtual machines"}, net.Ranges.VMs)
	require.Equal(t, addr("10.10.2.240"), net.Ranges.LoadBalancer.Start)
	require.Equal(t, addr("10.10.2.254"), net.Ranges.LoadBalancer.End)
	require.Equal(t, 15, net.Ranges.LoadBalancer.Size())

	hostIPs := map[string]netip.Addr{}
	for _, a := range inv.Addresses() {
		hostIPs[a.Name] = a.IP
	}
	require.Equal(t, addr("10.10.2.2"), hostIPs[inv.Proxmox.Node], "Proxmox host")
	require.Equal(t, addr("10.10.2.5"), hostIPs["nas"])
	require.Equal(t, inventory.NFS{Server: "nas", BackupExport: "/mnt/tank/longhorn-backups", VolumeExport: "/mnt/tank/kubernetes"}, inv.Kubernetes.NFS)
	require.Equal(t, inventory.GitOps{URL: "https://github.com/wdiazux/infra.git", Branch: "main", Path: "kubernetes/apps"}, inv.Kubernetes.GitOps)
	require.ElementsMatch(t, inventory.KnownCharts(), inv.ChartNames(), "homelab.yaml pins every add-on")
	require.Equal(t, addr("10.10.2.11"), hostIPs["hubble-ui"])
	require.Equal(t, addr("10.10.2.12"), hostIPs["longhorn-ui"])
	require.Equal(t, addr("10.10.2.13"), hostIPs["forgejo"])
	require.Equal(t, addr("10.10.2.14"), hostIPs["flux-webhook"])
	for i, name := range []string{"ubuntu", "debian", "arch", "nixos", "windows"} {
		require.Equal(t, netip.AddrFrom4([4]byte{10, 10, 2, byte(51 + i)}), hostIPs[name+"-vm"], name)
	}

	want := map[string][2]int{"ubuntu": {9100, 9102}, "debian": {9110, 9112}, "nixos": {9200, 9202}, "arch": {9300, 9302}}
	for name, ids := range want {
		require.Equal(t, ids[0], inv.Images[name].BaseVMID, name)
		require.Equal(t, ids[1], inv.Images[name].TemplateID, name)
	}
	require.Equal(t, "24.04", inv.Images["ubuntu"].Release)

	talos := inv.Talos
	require.Len(t, talos.Nodes, 1)
	node := talos.Nodes[0]
	require.Equal(t, addr("10.10.2.10"), node.IP)
	require.Equal(t, inventory.RoleControlPlane, node.Role)
	require.Equal(t, addr("10.10.2.10"), talos.Endpoint())
	require.True(t, node.GPU.Enabled)
	require.Equal(t, []string{"07:00.0", "07:00.1"}, node.GPU.PCI)
	require.Subset(t, talos.Extensions, []string{"siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools", "siderolabs/util-linux-tools"})
	require.Equal(t, []string{"siderolabs/nonfree-kmod-nvidia-production", "siderolabs/nvidia-container-toolkit-production"}, talos.GPUExtensions)
	require.True(t, strings.HasPrefix(talos.Version, "v1.12."), talos.Version)

	require.Equal(t, "wdiaz", inv.User.Name)
	require.Equal(t, "America/El_Salvador", inv.User.Timezone)
	require.Equal(t, "/bin/bash", inv.User.Shell)
	require.Equal(t, 12, inv.Proxmox.Hardware.Cores)
	require.Equal(t, 96, inv.Proxmox.Hardware.MemoryGiB)
}

func TestValidFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			inv, err := inventory.Load(f)
			require.NoError(t, err)
			require.NotEmpty(t, inv.Talos.ControlPlanes())
		})
	}
}

func TestThreeControlPlanesUseTheVIP(t *testing.T) {
	inv, err := inventory.Load("testdata/valid/three-nodes.yaml")
	require.NoError(t, err)
	require.Len(t, inv.Talos.ControlPlanes(), 3)
	require.Equal(t, netip.MustParseAddr("192.168.1.9"), inv.Talos.Endpoint())
	require.True(t, inv.GPUExtensionsNeeded())
}

// TestWindowsMedia reads the Windows template's ISOs: a volume, and a URL
// with its checksum; the cloud images have none.
func TestWindowsMedia(t *testing.T) {
	inv, err := inventory.Load("testdata/valid/three-nodes.yaml")
	require.NoError(t, err)
	require.Equal(t, inventory.Media{ISO: "local:iso/Windows_Server_2025_EVAL.ISO", VirtioISO: "https://example.com/virtio-win-0.1.271.iso",
		VirtioISOChecksum: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, inv.Images["windows"].Media)
	require.False(t, inv.Images["debian"].Media.Set())
}

// TestInvalidInventories loads every fixture under testdata/invalid and
// compares the complete report, so each case proves both the message (with
// its line and field path) and that nothing else was reported.
func TestInvalidInventories(t *testing.T) {
	cases := map[string][]string{
		"malformed-yaml":     {`malformed-yaml.yaml:4: malformed YAML: did not find expected ',' or ']'`},
		"empty-file":         {`empty-file.yaml: the file is empty; start from the homelab.yaml in the repository`},
		"two-documents":      {`two-documents.yaml:54: malformed YAML: a second YAML document starts here; the inventory is a single document`},
		"unknown-key":        {`unknown-key.yaml:7: network.vlan: unknown field; expected one of: cidr, gateway, domain, search_domains, dns_servers, ntp_servers, ranges`},
		"unknown-key-typo":   {`unknown-key-typo.yaml:29: talos.tempalte_id: unknown field; did you mean "template_id"?`},
		"credential-in-file": {`credential-in-file.yaml:22: proxmox.token: unknown field; credentials and endpoints never go in the inventory: the Proxmox URL and token come from the environment (PROXMOX_URL, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET), other secrets from secrets/*.enc.yaml`},
		"duplicate-key":      {`duplicate-key.yaml:7: network.domain: duplicate key; it is first set on line 6`},
		"anchor-alias": {
			`anchor-alias.yaml:23: proxmox.hardware: anchors (&hw) are not supported: Terraform, Packer and Ansible read this file too; write values out in full`,
			`anchor-alias.yaml:59: vms[0].cores: aliases (*hw) are not supported: Terraform, Packer and Ansible read this file too; write the value out in full`,
		},
		"bad-media": {
			`bad-media.yaml:30: images.debian.media: only windows installs from ISOs; debian is imported from its cloud image: remove media`,
			`bad-media.yaml:38: images.windows.media.iso_checksum: "md5:abc" is not a checksum such as sha256:<64 hex digits>; a URL needs one, so the download is verified`,
			`bad-media.yaml:39: images.windows.media.virtio_iso: "/var/lib/vz/template/iso/virtio-win.iso" is neither a volume such as local:iso/windows-server-2025.iso nor an http(s) URL`,
		},
		"missing-required":             {`missing-required.yaml:3: network.gateway: required field is missing`},
		"null-required":                {`null-required.yaml:21: proxmox.bridge: required field has no value`},
		"wrong-type-int":               {`wrong-type-int.yaml:38: talos.nodes[0].cores: expected an integer, got string "two"`},
		"wrong-type-list":              {`wrong-type-list.yaml:32: talos.extensions: expected a list, got string "siderolabs/qemu-guest-agent"`},
		"wrong-type-mapping":           {`wrong-type-mapping.yaml:15: hosts: expected a list, got a mapping`},
		"wrong-type-number-for-string": {`wrong-type-number-for-string.yaml:25: images.debian.release: expected a string, got integer 13 (quote it: "13")`},
		"schema-unsupported":           {`schema-unsupported.yaml:2: schema: unsupported schema 2; this version of the tools reads schema 1`},
		"invalid-ip":                   {`invalid-ip.yaml:5: network.gateway: "192.168.1.300" is not an IP address such as 10.10.2.10`},
		"network-host-bits":            {`network-host-bits.yaml:4: network.cidr: 192.168.1.1/24 has host bits set; did you mean 192.168.1.0/24?`},
		"overlapping-ranges":           {`overlapping-ranges.yaml:14: network.ranges.load_balancer: 192.168.1.200–192.168.1.220 overlaps the vms range 192.168.1.50–192.168.1.205; allocation ranges must be disjoint`},
		"ip-outside-subnet":            {`ip-outside-subnet.yaml:37: talos.nodes[0].ip: 192.168.2.5 is outside network 192.168.1.0/24`},
		"ip-wrong-range":               {`ip-wrong-range.yaml:37: talos.nodes[0].ip: 192.168.1.30 is outside the infrastructure range 192.168.1.1–192.168.1.9 (which is in the applications range)`},
		"vm-ip-in-lb-pool":             {`vm-ip-in-lb-pool.yaml:57: vms[0].ip: 192.168.1.210 is outside the vms range 192.168.1.50–192.168.1.69 (which is in the load_balancer range)`},
		"duplicate-ip":                 {`duplicate-ip.yaml:37: talos.nodes[0].ip: 192.168.1.5 is already assigned to pve (hosts[0].ip, line 17)`},
		"duplicate-hostname":           {`duplicate-hostname.yaml:34: talos.nodes[0].name: host name "cp-1" is already used by hosts[0].name (line 16)`},
		"duplicate-vm-id":              {`duplicate-vm-id.yaml:36: talos.nodes[0].vm_id: VM ID 9112 is already used by debian template (images.debian.template_id, line 25)`},
		"vm-id-below-100":              {`vm-id-below-100.yaml:36: talos.nodes[0].vm_id: 99 is not a valid VM ID: Proxmox VM IDs run from 100 to 999999999 (IDs below 100 are reserved)`},
		"bad-talos-version":            {`bad-talos-version.yaml:27: talos.version: "1.12.7" is not a Talos release such as v1.12.7`},
		"bad-tool-version":             {`bad-tool-version.yaml:53: tools.talosctl: "latest" is not a semantic version such as 1.18.4 or v1.18.4`},
		"kubernetes-unsupported":       {`kubernetes-unsupported.yaml:42: kubernetes.version: Talos v1.12 supports Kubernetes 1.30 to 1.35, not v1.29.0`},
		"bad-timezone":                 {`bad-timezone.yaml:48: user.timezone: "America/Atlantis" is not an IANA time zone such as America/El_Salvador`},
		"bad-ssh-key":                  {`bad-ssh-key.yaml:51: user.ssh_public_keys[0]: not a single SSH public key in authorized_keys format (ssh-ed25519 AAAA… comment)`},
		"private-key-pasted":           {`private-key-pasted.yaml:51: user.ssh_public_keys[0]: this is a private key: remove it from the file now and rotate it; only public keys (ssh-ed25519 AAAA…) belong here`},
		"even-control-planes":          {`even-control-planes.yaml:34: talos.nodes: 2 control-plane nodes: etcd needs an odd number (1 or 3) to keep quorum`},
		"ha-without-vip":               {`ha-without-vip.yaml:26: talos.vip: required with 3 control-plane nodes: the VIP is the cluster endpoint`},
		"gpu-without-pci": {
			`gpu-without-pci.yaml:26: talos.gpu_extensions: a node passes a GPU through; list the NVIDIA extensions (siderolabs/nonfree-kmod-nvidia-production, siderolabs/nvidia-container-toolkit-production)`,
			`gpu-without-pci.yaml:41: talos.nodes[0].gpu.pci: list the PCI addresses to pass through, e.g. 07:00.0 and 07:00.1`,
		},
		"pod-cidr-overlaps-lan": {`pod-cidr-overlaps-lan.yaml:43: kubernetes.pod_cidr: 192.168.0.0/16 overlaps the LAN 192.168.1.0/24; pick a private range the LAN does not use`},
		"proxmox-node-unknown":  {`proxmox-node-unknown.yaml:20: proxmox.node: no entry in hosts is named "pve2"; add the Proxmox host to hosts with its address`},
		"vm-unknown-image":      {`vm-unknown-image.yaml:58: vms[0].image: no image named "fedora"; images has: debian`},
		"memory-overcommit":     {`memory-overcommit.yaml:23: proxmox.hardware.memory_gib: the Talos nodes and enabled VMs need 16384 MiB but the host has 12288 MiB for guests (16 GiB - 4 GiB reserved); disable a VM or lower memory_mib`},
		"several-problems": {
			`several-problems.yaml:36: talos.nodes[0].vm_id: VM ID 9110 is already used by debian base VM (images.debian.base_vm_id, line 25)`,
			`several-problems.yaml:37: talos.nodes[0].ip: 10.0.0.5 is outside network 192.168.1.0/24`,
			`several-problems.yaml:53: tools.talosctl: "one" is not a semantic version such as 1.18.4 or v1.18.4`,
		},
		"unknown-image": {`unknown-image.yaml:25: images.fedora: unknown image "fedora"; images may be: arch, debian, nixos, ubuntu, windows`},
		"bad-proxmox-names": {
			`bad-proxmox-names.yaml:21: proxmox.bridge: "vmbr 0" is not a valid Linux bridge name (e.g. vmbr0)`,
			`bad-proxmox-names.yaml:22: proxmox.storage.disks: "1disks" is not a valid Proxmox storage ID (letters, digits, '-', '_' and '.', starting with a letter)`,
		},
		"reserved-memory-too-large": {`reserved-memory-too-large.yaml:23: proxmox.hardware.reserved_memory_gib: 16 must be at least 0 and less than memory_gib (16)`},
		"bad-talos-settings": {
			`bad-talos-settings.yaml:30: talos.factory_url: "factory.talos.dev" is not an http(s) URL such as https://factory.talos.dev`,
			`bad-talos-settings.yaml:31: talos.install_disk: "sda" is not a device path such as /dev/sda`,
			`bad-talos-settings.yaml:32: talos.extensions[0]: "qemu-guest-agent" is not an extension name such as siderolabs/iscsi-tools`,
			`bad-talos-settings.yaml:32: talos.extensions[2]: siderolabs/iscsi-tools is already listed at talos.extensions[1]`,
			`bad-talos-settings.yaml:33: talos.kernel_args[0]: "console=ttyS0 quiet" must be one non-empty argument without spaces`,
			`bad-talos-settings.yaml:34: talos.etcd_snapshots_keep: -1: keep at least one snapshot (or leave it out for 7)`,
		},
		"bad-node-sizes": {
			`bad-node-sizes.yaml:33: talos.nodes: no node has role "controlplane"; a cluster needs at least one control plane`,
			`bad-node-sizes.yaml:35: talos.nodes[0].role: "master" is not a role; use "controlplane" or "worker"`,
			`bad-node-sizes.yaml:38: talos.nodes[0].cores: 16 cores is more than the host's 4`,
			`bad-node-sizes.yaml:39: talos.nodes[0].memory_mib: 512 MiB is below the 1024 MiB Talos needs for this role`,
			`bad-node-sizes.yaml:40: talos.nodes[0].os_disk_gib: 5 GiB is below the 10 GiB Talos needs`,
			`bad-node-sizes.yaml:41: talos.nodes[0].data_disk_gib: -1 must be 0 (no data disk) or a size in GiB`,
		},
		"gpu-shared": {
			`gpu-shared.yaml:42: talos.nodes[0].gpu.mapping: "rtx 4000" is not a PCI resource mapping name; create one under Datacenter → Resource Mappings and name it here`,
			`gpu-shared.yaml:42: talos.nodes[0].gpu.pci[1]: "7:0.0" is not a PCI address such as 07:00.0 or 0000:07:00.0`,
			`gpu-shared.yaml:50: talos.nodes[1].gpu.pci[0]: 0000:07:00.0 is already passed through to cp-1; a PCI device can belong to one VM only`,
		},
		"bad-service": {
			`bad-service.yaml:56: services[0].ip: 192.168.1.30 is outside the services range 192.168.1.10–192.168.1.19 (which is in the applications range)`,
			`bad-service.yaml:57: services[0].namespace: "Monitoring" is not a valid name: use lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit`,
			`bad-service.yaml:58: services[0].ports[0]: 0 is not a port number (1–65535)`,
			`bad-service.yaml:59: services[0].description: must not be empty`,
		},
		"bad-chart": {
			`bad-chart.yaml:47: kubernetes.charts.cilium.repository: "http://helm.cilium.io" must be an https:// or oci:// URL`,
			`bad-chart.yaml:48: kubernetes.charts.cilium.chart: "Cilium!" is not a chart name`,
			`bad-chart.yaml:49: kubernetes.charts.cilium.version: "latest" is not a semantic version such as 1.18.4 or v1.18.4`,
		},
		"bad-user": {
			`bad-user.yaml:46: user.name: the admin user must not be root; root login is disabled on every VM`,
			`bad-user.yaml:47: user.shell: "bash" must be an absolute path such as /bin/bash`,
			`bad-user.yaml:49: user.locale: "english" is not a locale such as en_US.UTF-8`,
		},
		"bad-network-lists": {
			`bad-network-lists.yaml:7: network.search_domains[0]: "lab_example" is not a DNS domain such as home-infra.net`,
			`bad-network-lists.yaml:8: network.dns_servers[0]: ::1 is not an IPv4 address`,
			`bad-network-lists.yaml:9: network.ntp_servers[0]: "pool ntp org" is neither a host name nor an IP address`,
		},
		"bad-ranges": {
			`bad-ranges.yaml:12: network.ranges.applications.end: 192.168.1.20 comes before the start 192.168.1.49`,
			`bad-ranges.yaml:14: network.ranges.load_balancer.end: 192.168.2.220 is outside network 192.168.1.0/24`,
		},
		"gateway-network-address": {
			`gateway-network-address.yaml:5: network.gateway: 192.168.1.0 is the network address of 192.168.1.0/24, not a usable host address`,
			`gateway-network-address.yaml:18: hosts[0].description: must not be empty`,
		},
		"vm-too-small": {
			`vm-too-small.yaml:60: vms[0].memory_mib: 256 MiB is below the 512 MiB minimum`,
			`vm-too-small.yaml:61: vms[0].disk_gib: 0 must be at least 1`,
		},
		"bad-tool-name":         {`bad-tool-name.yaml:53: tools.Talosctl: "Talosctl" is not a tool name (lower-case letters, digits, '-' and '_')`},
		"ipv6-network":          {`ipv6-network.yaml:4: network.cidr: fd00::/64 is not an IPv4 network; the homelab plan is IPv4`},
		"cluster-cidrs-overlap": {`cluster-cidrs-overlap.yaml:44: kubernetes.service_cidr: 10.244.128.0/17 overlaps the pod network 10.244.0.0/16`},
		"no-nodes": {
			`no-nodes.yaml:32: talos.extensions: list the system extensions; Longhorn needs at least siderolabs/iscsi-tools and siderolabs/util-linux-tools`,
			`no-nodes.yaml:33: talos.nodes: list at least one node`,
			`no-nodes.yaml:43: user.ssh_public_keys: list at least one SSH public key; password login is disabled`,
		},
		"talos-version-older": {`talos-version-older.yaml:27: talos.version: unknown Talos release v1.9.0; known releases: v1.10.0 to v1.12.x (releases before v1.10 are not supported)`},
		"talos-version-newer": {`talos-version-newer.yaml:27: talos.version: unknown Talos release v2.0.0; known releases: v1.10.0 to v1.12.x (a later release needs a later github.com/siderolabs/talos/pkg/machinery in go.mod)`},
		"kubernetes-unknown": {
			`kubernetes-unknown.yaml:27: talos.version: unknown Talos release v1.13.0; known releases: v1.10.0 to v1.12.x (a later release needs a later github.com/siderolabs/talos/pkg/machinery in go.mod)`,
			`kubernetes-unknown.yaml:42: kubernetes.version: unknown Kubernetes release v1.36.0; the known Talos releases support v1.28 to v1.35`,
		},
		"int-hex":   {`int-hex.yaml:36: talos.nodes[0].vm_id: 0x97 is read as 151; write integers in decimal`},
		"int-octal": {`int-octal.yaml:36: talos.nodes[0].vm_id: 0227 is read as 151; write integers in decimal`},
		"int-other-notations": {
			`int-other-notations.yaml:23: proxmox.hardware.cores: 0b100 is read as 4; write integers in decimal`,
			`int-other-notations.yaml:38: talos.nodes[0].cores: +2 is read as 2; write integers in decimal`,
			`int-other-notations.yaml:39: talos.nodes[0].memory_mib: 4_096 is read as 4096; write integers in decimal`,
			`int-other-notations.yaml:40: talos.nodes[0].os_disk_gib: 0o24 is read as 20; write integers in decimal`,
		},
		"pci-device-out-of-range":   {`pci-device-out-of-range.yaml:42: talos.nodes[0].gpu.pci[0]: "07:20.0" is not a PCI address: device 20 is above 1f (the form is [domain:]bus:device.function with bus 00-ff, device 00-1f and function 0-7, e.g. 07:00.0)`},
		"pci-function-out-of-range": {`pci-function-out-of-range.yaml:42: talos.nodes[0].gpu.pci[0]: "07:00.8" is not a PCI address: function 8 is above 7 (the form is [domain:]bus:device.function with bus 00-ff, device 00-1f and function 0-7, e.g. 07:00.0)`},
		"service-duplicate-port":    {`service-duplicate-port.yaml:61: services[0].ports[2]: port 80 is listed twice; it is first listed at services[0].ports[0] (line 59)`},
		"key-non-ascii":             {`key-non-ascii.yaml:26: tаlos: unknown field; key "tаlos" has the non-ASCII character 'а' (U+0430 CYRILLIC SMALL LETTER A) at position 2; did you mean "talos"?`},
		"invalid-utf8":              {`invalid-utf8.yaml:23: malformed YAML: invalid UTF-8 at column 20 (byte 0xe9 at offset 792); save the file as UTF-8`},
		"control-character":         {`control-character.yaml:18: malformed YAML: control character U+0001 at column 23; remove it (YAML allows no control characters but tabs and line breaks)`},
		"tab-indentation":           {`tab-indentation.yaml:38: malformed YAML: a tab in the indentation at column 1; indent with spaces`},
		"tab-after-multiline":       {`tab-after-multiline.yaml:19: malformed YAML: a tab in the indentation at column 1; indent with spaces`},
		"unclosed-quote":            {`unclosed-quote.yaml:18: malformed YAML: the string that starts with " at column 18 is not closed on this line; end it with "`},
		"unclosed-quote-flow":       {`unclosed-quote-flow.yaml:10: malformed YAML: the string that starts with ' at column 69 is not closed on this line; end it with '`},
		"chart-unknown":             {`chart-unknown.yaml:46: kubernetes.charts.cillium: unknown add-on "cillium"; kubernetes.charts may pin: alloy, cilium, csi-driver-nfs, flux2, forgejo, kube-prometheus-stack, loki, longhorn, nvidia-device-plugin`},
		"nfs-bad": {
			`nfs-bad.yaml:52: kubernetes.nfs.server: no entry in hosts is named "nas"; name the NAS as listed in hosts (pve)`,
			`nfs-bad.yaml:53: kubernetes.nfs.backup_export: "mnt/backups" is not an absolute export path such as /volume1/longhorn (letters, digits, '.', '_', '-', '@', '+' between single slashes, no trailing slash)`,
			`nfs-bad.yaml:54: kubernetes.nfs.volume_export: "/mnt/tank/" is not an absolute export path such as /volume1/longhorn (letters, digits, '.', '_', '-', '@', '+' between single slashes, no trailing slash)`,
		},
		"nfs-same-export": {`nfs-same-export.yaml:54: kubernetes.nfs.volume_export: /mnt/tank/k8s is also the backup_export; give Longhorn's backups and the NFS volumes separate exports so a volume cannot overwrite a backup`},
		"gitops-bad": {
			`gitops-bad.yaml:52: kubernetes.gitops.url: "git@github.com:wdiazux/infra.git" is not a git URL Flux can clone: use https://host/owner/repo.git or ssh://git@host/owner/repo.git (not the scp form git@host:owner/repo)`,
			`gitops-bad.yaml:53: kubernetes.gitops.branch: "main..dev" is not a git branch name such as main`,
			`gitops-bad.yaml:54: kubernetes.gitops.path: "./kubernetes/apps" is not a folder relative to the repository root such as kubernetes/apps (no leading ./ or /, no ..)`,
		},
		"charts-need-nas-and-git": {
			`charts-need-nas-and-git.yaml:46: kubernetes.charts.csi-driver-nfs: the csi-driver-nfs add-on needs the NAS: add kubernetes.nfs with server (a host of hosts), backup_export and volume_export`,
			`charts-need-nas-and-git.yaml:51: kubernetes.charts.flux2: Flux needs the repository it follows: add kubernetes.gitops with url, branch and path`,
			`charts-need-nas-and-git.yaml:56: kubernetes.charts.longhorn: the longhorn add-on needs the NAS: add kubernetes.nfs with server (a host of hosts), backup_export and volume_export`,
		},
		"service-ip-in-lb-pool": {`service-ip-in-lb-pool.yaml:47: services[0].ip: 192.168.1.205 is outside the services range 192.168.1.10–192.168.1.19 (which is in the load_balancer range)`},
		"value-non-ascii": {
			`value-non-ascii.yaml:33: talos.nodes: no node has role "controlplane"; a cluster needs at least one control plane`,
			`value-non-ascii.yaml:34: talos.nodes[0].name: "cp-1о" is not a valid name: use lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit; it has the non-ASCII character 'о' (U+043E CYRILLIC SMALL LETTER O) at position 5`,
			`value-non-ascii.yaml:35: talos.nodes[0].role: "cоntrolplane" is not a role; use "controlplane" or "worker"; it has the non-ASCII character 'о' (U+043E CYRILLIC SMALL LETTER O) at position 2`,
		},
	}

	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(cases), "every fixture needs a case and every case a fixture")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			want, ok := cases[name]
			require.True(t, ok, "no expectation for %s", f)
			data, err := os.ReadFile(f)
			require.NoError(t, err)

			inv, err := inventory.Parse(filepath.Base(f), data)
			require.Nil(t, inv)
			var invErr *inventory.Error
			require.True(t, errors.As(err, &invErr), "want *inventory.Error, got %T: %v", err, err)
			require.Equal(t, want, strings.Split(err.Error(), "\n"))
			require.Len(t, invErr.Problems, len(want))
		})
	}
}

// TestTagsAgree keeps the JSON output of config:show in step with the YAML
// keys: every field carries the same name in both tags.
func TestTagsAgree(t *testing.T) {
	var walk func(reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map || typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() != reflect.TypeFor[inventory.Inventory]().PkgPath() {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			y, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			j, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			require.NotEmpty(t, y, "%s.%s has no yaml tag", typ.Name(), f.Name)
			require.Equal(t, y, j, "%s.%s", typ.Name(), f.Name)
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[inventory.Inventory]())
	require.NotEmpty(t, seen)
}

func TestFileFromEnv(t *testing.T) {
	t.Setenv(inventory.EnvFile, "")
	require.Equal(t, inventory.DefaultFile, inventory.FileFromEnv())
	t.Setenv(inventory.EnvFile, "/tmp/other.yaml")
	require.Equal(t, "/tmp/other.yaml", inventory.FileFromEnv())
}

func TestLoadMissingFile(t *testing.T) {
	_, err := inventory.Load(filepath.Join(t.TempDir(), "absent.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, inventory.EnvFile)
}

// hugeBroken returns the minimal inventory followed by n generated lines,
// each a problem.
func hugeBroken(t testing.TB, n int, line func(i int) string) []byte {
	data, err := os.ReadFile("testdata/valid/minimal.yaml")
	require.NoError(t, err)
	var b strings.Builder
	b.Write(data)
	for i := range n {
		b.WriteString(line(i))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// TestHugeBrokenFileReportsTheFirstProblems feeds 200,000 unknown keys (and
// 20,000 bad tool versions, found by the checks that run after decoding)
// and checks that the report lists the first 50 problems in file order and
// counts the rest in one line, so a broken file cannot flood the terminal.
func TestHugeBrokenFileReportsTheFirstProblems(t *testing.T) {
	const minimalLines = 53 // lines of testdata/valid/minimal.yaml
	tests := []struct {
		name  string
		n     int
		line  func(i int) string
		first string
	}{
		{"unknown keys", 200_000, func(i int) string { return fmt.Sprintf("key%06d: 1", i) },
			"huge.yaml:54: key000000: unknown field; expected one of: schema, network, hosts, proxmox, images, talos, kubernetes, services, vms, user, tools"},
		{"bad tool versions", 20_000, func(i int) string { return fmt.Sprintf("  tool%06d: latest", i) },
			`huge.yaml:54: tools.tool000000: "latest" is not a semantic version such as 1.18.4 or v1.18.4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inventory.Parse("huge.yaml", hugeBroken(t, tt.n, tt.line))
			var invErr *inventory.Error
			require.ErrorAs(t, err, &invErr)
			require.Len(t, invErr.Problems, inventory.MaxProblems)
			require.Equal(t, tt.n, invErr.Total())
			for i, p := range invErr.Problems {
				require.Equal(t, minimalLines+1+i, p.Line, "problem %d: %s", i, p)
			}
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, inventory.MaxProblems+1)
			require.Equal(t, tt.first, lines[0])
			require.Equal(t, fmt.Sprintf("... and %d more problem(s)", tt.n-inventory.MaxProblems), lines[len(lines)-1])
			require.Less(t, len(err.Error()), 200*inventory.MaxProblems, "the report is bounded")
		})
	}
}
