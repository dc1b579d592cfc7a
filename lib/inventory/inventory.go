package inventory

import "net/netip"

// SchemaVersion is the version of the inventory format this package reads.
// A file declaring another schema is rejected rather than misread.
const SchemaVersion = 1

// Node roles accepted in talos.nodes[].role.
const (
	RoleControlPlane = "controlplane"
	RoleWorker       = "worker"
)

// Inventory is the whole homelab.yaml. Fields tagged omitempty are optional;
// every other field is required.
//
// The doc comment of each field of Inventory and of the structs below it is
// that field's row in docs/reference/inventory.md, which internal/docgen
// generates from this source: the comment is the description, the Type
// column comes from the Go type unless a line "Type: …" says more, a
// mapping names its keys in a line "Key: <name>", and a mapping of scalars
// describes its values in the lines "Value type: …" and "Value: …" (to the
// comment's end).
type Inventory struct {
	// Format version of the file. Must be `1`; a newer file is rejected rather
	// than misread.
	Schema int `yaml:"schema" json:"schema"`
	// The LAN and its address plan.
	Network Network `yaml:"network" json:"network"`
	// Physical machines and core infrastructure with fixed addresses.
	Hosts []Host `yaml:"hosts" json:"hosts"`
	// The Proxmox VE host: node name, bridge, storages, hardware.
	Proxmox Proxmox `yaml:"proxmox" json:"proxmox"`
	// Golden templates of the traditional operating systems, keyed by OS.
	// Key: <os>
	Images map[string]Image `yaml:"images" json:"images"`
	// The Talos Linux cluster.
	Talos Talos `yaml:"talos" json:"talos"`
	// Kubernetes version, cluster networks and add-on charts.
	Kubernetes Kubernetes `yaml:"kubernetes" json:"kubernetes"`
	// Kubernetes services published on fixed LoadBalancer addresses.
	Services []Service `yaml:"services,omitempty" json:"services,omitempty"`
	// Traditional VMs cloned from the images.
	VMs []VM `yaml:"vms,omitempty" json:"vms,omitempty"`
	// The admin account created on every traditional VM.
	User User `yaml:"user" json:"user"`
	// Versions of the external tools the project builds and tests with.
	// Key: <name>
	// Value type: version
	// Value: Version of an external tool the project builds and tests with, e.g.
	// `tflint: 0.64.0`. Names are lower-case letters, digits, `-` and `_`. The Nix
	// shell provides these or newer for daily use. `go run mage.go test` builds
	// the `sops` CLI at `tools.sops`, which must be the sops version `go.mod`
	// requires (a test checks it), and Terraform's bpg provider at
	// `tools.terraform-provider-proxmox`, which must be the version
	// `internal/toolchain/modules/terraform-provider-proxmox/go.mod` requires (the
	// build refuses otherwise), and likewise `tflint` and `trivy` at
	// `tools.tflint` and `tools.trivy` from `internal/toolchain/modules/tflint/`
	// and `internal/toolchain/modules/trivy/`, and the tests' Kubernetes API
	// server, `kube-apiserver` at `tools.kube-apiserver` (the `k8s.io/kubernetes`
	// version, its version variables linked from it) and `etcd` at `tools.etcd`,
	// from `internal/toolchain/modules/kube-apiserver/` and
	// `internal/toolchain/modules/etcd/`, and `packer` at `tools.packer` and its
	// proxmox and ansible plugins at `tools.packer-plugin-proxmox` and
	// `tools.packer-plugin-ansible` from `internal/toolchain/modules/packer/`,
	// `internal/toolchain/modules/packer-plugin-proxmox/` and
	// `internal/toolchain/modules/packer-plugin-ansible/`.
	Tools map[string]string `yaml:"tools" json:"tools"`
}

// Network is the homelab LAN.
type Network struct {
	// The LAN, e.g. `10.10.2.0/24`. Host bits must be zero; prefix length /8 to
	// /30.
	CIDR netip.Prefix `yaml:"cidr" json:"cidr"`
	// Default router. Must lie in the `infrastructure` range.
	Gateway netip.Addr `yaml:"gateway" json:"gateway"`
	// Domain of the homelab, e.g. `home-infra.net`.
	// Type: DNS name
	Domain string `yaml:"domain" json:"domain"`
	// Search domains for resolvers.
	// Type: list of DNS names
	SearchDomains []string `yaml:"search_domains,omitempty" json:"search_domains,omitempty"`
	// Resolvers, in order; at least one. They may lie outside the LAN.
	DNSServers []netip.Addr `yaml:"dns_servers" json:"dns_servers"`
	// Time servers; at least one.
	// Type: list of host names or addresses
	NTPServers []string `yaml:"ntp_servers" json:"ntp_servers"`
	// The allocation plan: five ranges that must not overlap.
	Ranges Ranges `yaml:"ranges" json:"ranges"`
}

// Ranges is the address allocation plan. The ranges must not overlap.
type Ranges struct {
	// Physical computers and core infrastructure: the gateway, `hosts[]`, Talos
	// nodes and the Talos VIP.
	Infrastructure Range `yaml:"infrastructure" json:"infrastructure"`
	// Fixed LoadBalancer addresses of `services[]`.
	Services Range `yaml:"services" json:"services"`
	// Applications and services outside the cluster.
	Applications Range `yaml:"applications" json:"applications"`
	// Addresses of `vms[]`.
	VMs Range `yaml:"vms" json:"vms"`
	// The pool Cilium hands LoadBalancer addresses out of. No static address may
	// fall inside it.
	LoadBalancer Range `yaml:"load_balancer" json:"load_balancer"`
}

// Range is an inclusive range of addresses.
type Range struct {
	// First address of the range (inside the LAN).
	Start netip.Addr `yaml:"start" json:"start"`
	// Last address of the range, inclusive; not before `start`.
	End netip.Addr `yaml:"end" json:"end"`
	// What the range is for; shown by `config:show`.
	Purpose string `yaml:"purpose" json:"purpose"`
}

// Contains reports whether a lies in the range.
func (r Range) Contains(a netip.Addr) bool {
	return r.Start.Compare(a) <= 0 && a.Compare(r.End) <= 0
}

// Size is the number of addresses in the range, or 0 when End precedes Start.
func (r Range) Size() int {
	if !r.Start.Is4() || !r.End.Is4() || r.End.Less(r.Start) {
		return 0
	}
	s, e := r.Start.As4(), r.End.As4()
	return int(be32(e)-be32(s)) + 1
}

func be32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// String renders the range as "start–end".
func (r Range) String() string { return r.Start.String() + "–" + r.End.String() }

// Host is a physical machine or core infrastructure device with a fixed address.
type Host struct {
	// Host name: lower-case letters, digits and `-`, at most 63 characters. Unique
	// across hosts, Talos nodes, services and VMs.
	// Type: name
	Name string `yaml:"name" json:"name"`
	// Fixed address in the `infrastructure` range.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// What the machine is.
	Description string `yaml:"description" json:"description"`
}

// Proxmox describes the Proxmox VE host. Its API URL and token are never part
// of the inventory: they come from the environment.
type Proxmox struct {
	// The PVE node name. Must equal the `name` of an entry in `hosts`, which gives
	// its address.
	// Type: name
	Node string `yaml:"node" json:"node"`
	// Linux bridge VM network interfaces attach to, e.g. `vmbr0`.
	// Type: interface name
	Bridge string `yaml:"bridge" json:"bridge"`
	// Which PVE storage holds what.
	Storage Storage `yaml:"storage" json:"storage"`
	// Capacity of the host, used to check that the plan fits.
	Hardware Hardware `yaml:"hardware" json:"hardware"`
}

// Storage names PVE storages by their role.
type Storage struct {
	// Holds downloaded disk images (content type `import`, off by default on PVE;
	// a directory-type storage such as `local`, since lvmthin and zfspool cannot
	// hold it).
	// Type: storage ID
	Import string `yaml:"import" json:"import"`
	// Holds installer ISOs (content type `iso`).
	// Type: storage ID
	ISO string `yaml:"iso" json:"iso"`
	// Holds VM disks (content type `images`), e.g. `local-zfs`.
	// Type: storage ID
	Disks string `yaml:"disks" json:"disks"`
}

// Hardware is the capacity of the Proxmox host.
type Hardware struct {
	// Processor model, for the record.
	CPU string `yaml:"cpu" json:"cpu"`
	// Physical cores. No VM or Talos node may have more vCPUs.
	Cores int `yaml:"cores" json:"cores"`
	// Installed memory in GiB.
	MemoryGiB int `yaml:"memory_gib" json:"memory_gib"`
	// Memory kept for Proxmox itself (ZFS ARC and services). The Talos nodes and
	// the enabled VMs must fit in `memory_gib - reserved_memory_gib`.
	ReservedMemoryGiB int `yaml:"reserved_memory_gib" json:"reserved_memory_gib"`
}

// Image is the golden template of a traditional operating system: a base VM
// built from the vendor's cloud image and the template made from it.
type Image struct {
	// Release the image tracks, quoted when numeric: `"24.04"`, `"13"`, `rolling`.
	Release string `yaml:"release" json:"release"`
	// VM holding the imported vendor image (9100 Ubuntu, 9110 Debian, 9200 NixOS,
	// 9300 Arch): a template `images:import` builds, see [the base
	// VMs](../deployment/base-images.md).
	// Type: VM ID
	BaseVMID int `yaml:"base_vm_id" json:"base_vm_id"`
	// The finished golden template (9102, 9112, 9202, 9302).
	// Type: VM ID
	TemplateID int `yaml:"template_id" json:"template_id"`
	// Account the vendor image ships with (`ubuntu`, `debian`, ...).
	// Type: user name
	DefaultUser string `yaml:"default_user" json:"default_user"`
	// Windows only (it installs from ISOs, not a cloud image): the installation
	// media `images:build windows` needs. Optional; without it `images:build
	// windows` says what to set and `images:build all` skips Windows.
	Media Media `yaml:"media,omitempty" json:"media,omitzero"`
}

// Media are an image's installation ISOs. Each is a volume already on
// proxmox.storage.iso ("local:iso/windows.iso") or an http(s) URL Packer
// downloads and uploads, which then needs its checksum ("sha256:<hex>").
type Media struct {
	// The Windows Server 2025 installer ISO (evaluation media work): a volume
	// already on `proxmox.storage.iso` such as
	// `local:iso/windows-server-2025.iso`, or an http(s) URL Packer downloads and
	// uploads.
	// Type: volume or URL
	ISO string `yaml:"iso" json:"iso"`
	// Required when `iso` is a URL (the download is verified); refused for a
	// volume.
	// Type: `sha256:<hex>`
	ISOChecksum string `yaml:"iso_checksum,omitempty" json:"iso_checksum,omitempty"`
	// The virtio-win drivers ISO, as `iso`.
	// Type: volume or URL
	VirtioISO string `yaml:"virtio_iso" json:"virtio_iso"`
	// Required when `virtio_iso` is a URL; refused for a volume.
	// Type: `sha256:<hex>`
	VirtioISOChecksum string `yaml:"virtio_iso_checksum,omitempty" json:"virtio_iso_checksum,omitempty"`
}

// Set reports whether any ISO is given.
func (m Media) Set() bool { return m != Media{} }

// Talos is the Talos Linux cluster.
type Talos struct {
	// Talos release, `vMAJOR.MINOR.PATCH`, e.g. `v1.12.7`; one of the known
	// releases below.
	// Type: release
	Version string `yaml:"version" json:"version"`
	// Cluster name in the Talos and Kubernetes configs.
	// Type: name
	ClusterName string `yaml:"cluster_name" json:"cluster_name"`
	// Template imported from the Image Factory.
	// Type: VM ID
	TemplateID int `yaml:"template_id" json:"template_id"`
	// Image Factory base URL, `https://factory.talos.dev` unless you run your own.
	// Type: URL
	FactoryURL string `yaml:"factory_url" json:"factory_url"`
	// Disk Talos installs itself to, e.g. `/dev/sda`.
	// Type: device path
	InstallDisk string `yaml:"install_disk" json:"install_disk"`
	// Seal STATE and EPHEMERAL with LUKS2 keys held by the VM's TPM. Default
	// `false`.
	DiskEncryption bool `yaml:"disk_encryption,omitempty" json:"disk_encryption"`
	// Shared control-plane address in the `infrastructure` range. Required with
	// more than one control-plane node; it then becomes the cluster endpoint.
	VIP netip.Addr `yaml:"vip,omitempty" json:"vip,omitzero"`
	// Official system extensions in every image, e.g.
	// `siderolabs/qemu-guest-agent`, `siderolabs/iscsi-tools` and
	// `siderolabs/util-linux-tools` (the last two are required by Longhorn).
	// Type: list of extension names
	Extensions []string `yaml:"extensions" json:"extensions"`
	// Added to the image when a node passes a GPU through, e.g.
	// `siderolabs/nonfree-kmod-nvidia-production` and
	// `siderolabs/nvidia-container-toolkit-production`. Required when any node has
	// `gpu.enabled`.
	// Type: list of extension names
	GPUExtensions []string `yaml:"gpu_extensions,omitempty" json:"gpu_extensions,omitempty"`
	// Extra kernel arguments baked into the image, one argument per item.
	KernelArgs []string `yaml:"kernel_args,omitempty" json:"kernel_args,omitempty"`
	// Encrypted etcd snapshots kept in the backup directory: taking one
	// deletes the oldest beyond this many, once the new one is complete.
	// Default `7`.
	EtcdSnapshotsKeep int `yaml:"etcd_snapshots_keep,omitempty" json:"etcd_snapshots_keep,omitempty"`
	// The cluster's machines: at least one control plane, and an odd number of
	// them (1 or 3) so etcd keeps quorum.
	Nodes []TalosNode `yaml:"nodes" json:"nodes"`
}

// TalosNode is one Talos VM.
type TalosNode struct {
	// Node host name.
	// Type: name
	Name string `yaml:"name" json:"name"`
	// The node's role. Control planes also run workloads.
	// Type: `controlplane` or `worker`
	Role string `yaml:"role" json:"role"`
	// The node's Proxmox VM ID.
	// Type: VM ID
	VMID int `yaml:"vm_id" json:"vm_id"`
	// Static address in the `infrastructure` range.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// vCPUs; at most `proxmox.hardware.cores`.
	Cores int `yaml:"cores" json:"cores"`
	// Memory in MiB: at least 2048 for a control plane, 1024 for a worker.
	MemoryMiB int `yaml:"memory_mib" json:"memory_mib"`
	// System disk in GiB; at least 10.
	OSDiskGiB int `yaml:"os_disk_gib" json:"os_disk_gib"`
	// Second disk for Longhorn volumes, in GiB; `0` or absent for none.
	DataDiskGiB int `yaml:"data_disk_gib,omitempty" json:"data_disk_gib,omitempty"`
	// PCI passthrough of a GPU to this node.
	GPU GPU `yaml:"gpu,omitempty" json:"gpu"`
}

// GPU describes PCI passthrough of a GPU (and its audio function).
type GPU struct {
	// Pass the GPU through and add `talos.gpu_extensions` to the image.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Name of the PVE PCI resource mapping (Datacenter → Resource Mappings) for
	// the device. Required when enabled.
	// Type: mapping name
	Mapping string `yaml:"mapping,omitempty" json:"mapping,omitempty"`
	// Host PCI functions to pass through, `[domain:]bus:device.function` in hex:
	// `07:00.0` or `0000:07:00.0`, with bus `00`-`ff`, device `00`-`1f` and
	// function `0`-`7`. Required when enabled. A function can be given to one node
	// only: a consumer GPU cannot be shared between VMs.
	// Type: list of PCI addresses
	PCI []string `yaml:"pci,omitempty" json:"pci,omitempty"`
}

// Kubernetes is the cluster's Kubernetes layer.
type Kubernetes struct {
	// Kubernetes release, `vMAJOR.MINOR.PATCH`, e.g. `v1.35.4`; one the Talos
	// release supports (see [talos](#talos)).
	// Type: release
	Version string `yaml:"version" json:"version"`
	// Pod network. Must not overlap the LAN or the service network.
	PodCIDR netip.Prefix `yaml:"pod_cidr" json:"pod_cidr"`
	// Service network. Must not overlap the LAN or the pod network.
	ServiceCIDR netip.Prefix `yaml:"service_cidr" json:"service_cidr"`
	// Helm charts of the add-ons, keyed by release name: `alloy`, `cilium`,
	// `csi-driver-nfs`, `flux2`, `forgejo`, `kube-prometheus-stack`, `loki`,
	// `longhorn`, `nvidia-device-plugin` (any other key is refused). See
	// [add-ons](addons.md).
	// Key: <name>
	Charts map[string]Chart `yaml:"charts,omitempty" json:"charts,omitempty"`
	// The NAS's NFS exports. Required when `kubernetes.charts` has `longhorn` or
	// `csi-driver-nfs`.
	NFS NFS `yaml:"nfs,omitempty" json:"nfs,omitzero"`
	// The git source Flux reconciles. Required when `kubernetes.charts` has
	// `flux2`.
	GitOps GitOps `yaml:"gitops,omitempty" json:"gitops,omitzero"`
}

// NFS names the NFS exports of a host of hosts.
type NFS struct {
	// Name of the entry in `hosts` that serves the exports (e.g. `nas`); its `ip`
	// is the NFS server address.
	// Type: name
	Server string `yaml:"server" json:"server"`
	// Absolute export path Longhorn backs volumes up to (`nfs://<server
	// ip>:<backup_export>`).
	// Type: path
	BackupExport string `yaml:"backup_export" json:"backup_export"`
	// Absolute export path the NFS CSI StorageClass `nfs-csi` makes volumes in;
	// not the `backup_export`.
	// Type: path
	VolumeExport string `yaml:"volume_export" json:"volume_export"`
}

// GitOps is the git repository, branch and folder Flux follows.
type GitOps struct {
	// The repository's git URL, `https://…` or `ssh://…` (the scp form
	// `git@host:…` is refused).
	// Type: URL
	URL string `yaml:"url" json:"url"`
	// Branch Flux follows, e.g. `main`.
	Branch string `yaml:"branch" json:"branch"`
	// Folder relative to the repository root that Flux applies with kustomize,
	// e.g. `kubernetes/apps` (no leading `./`, no `..`).
	// Type: path
	Path string `yaml:"path" json:"path"`
}

// Chart pins one Helm chart.
type Chart struct {
	// Chart repository, `https://...` or `oci://...`.
	// Type: URL
	Repository string `yaml:"repository" json:"repository"`
	// Chart name in the repository.
	Chart string `yaml:"chart" json:"chart"`
	// Exact chart version, semantic (`1.19.5`, `v4.12.1`).
	// Type: version
	Version string `yaml:"version" json:"version"`
	// Namespace the release is installed into.
	// Type: name
	Namespace string `yaml:"namespace" json:"namespace"`
}

// Service is a Kubernetes service published on a fixed LoadBalancer address.
type Service struct {
	// Service host name.
	// Type: name
	Name string `yaml:"name" json:"name"`
	// Fixed address in the `services` range.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// Namespace of the service.
	// Type: name
	Namespace string `yaml:"namespace" json:"namespace"`
	// TCP ports exposed, 1 to 65535; at least one, each listed once.
	Ports []int `yaml:"ports" json:"ports"`
	// What the service is.
	Description string `yaml:"description" json:"description"`
}

// VM is a traditional virtual machine cloned from one of the images.
type VM struct {
	// VM host name.
	// Type: name
	Name string `yaml:"name" json:"name"`
	// The VM's Proxmox ID.
	// Type: VM ID
	VMID int `yaml:"vm_id" json:"vm_id"`
	// Static address in the `vms` range.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// Key in `images` the VM is cloned from.
	// Type: image key
	Image string `yaml:"image" json:"image"`
	// vCPUs; at most `proxmox.hardware.cores`.
	Cores int `yaml:"cores" json:"cores"`
	// Memory in MiB; at least 512.
	MemoryMiB int `yaml:"memory_mib" json:"memory_mib"`
	// System disk in GiB; at least 1.
	DiskGiB int `yaml:"disk_gib" json:"disk_gib"`
	// Whether the VM is deployed.
	Enabled bool `yaml:"enabled" json:"enabled"`
}

// User is the admin account on the traditional VMs.
type User struct {
	// Login name (`wdiaz`); not `root`.
	// Type: user name
	Name string `yaml:"name" json:"name"`
	// Login shell, e.g. `/bin/bash`.
	// Type: absolute path
	Shell string `yaml:"shell" json:"shell"`
	// Time zone, e.g. `America/El_Salvador`.
	// Type: IANA zone
	Timezone string `yaml:"timezone" json:"timezone"`
	// System locale, e.g. `en_US.UTF-8`.
	// Type: locale
	Locale string `yaml:"locale" json:"locale"`
	// Public keys in `authorized_keys` format (`ssh-ed25519 AAAA... comment`); at
	// least one, since password login is disabled. A pasted private key is
	// rejected.
	SSHPublicKeys []string `yaml:"ssh_public_keys" json:"ssh_public_keys"`
}

// DefaultEtcdSnapshotsKeep is how many etcd snapshots are kept when
// talos.etcd_snapshots_keep is not set.
const DefaultEtcdSnapshotsKeep = 7

// SnapshotsKeep is how many etcd snapshots to keep: etcd_snapshots_keep,
// or DefaultEtcdSnapshotsKeep.
func (t Talos) SnapshotsKeep() int {
	if t.EtcdSnapshotsKeep == 0 {
		return DefaultEtcdSnapshotsKeep
	}
	return t.EtcdSnapshotsKeep
}

// ControlPlanes returns the control-plane nodes in file order.
func (t Talos) ControlPlanes() []TalosNode {
	var out []TalosNode
	for _, n := range t.Nodes {
		if n.Role == RoleControlPlane {
			out = append(out, n)
		}
	}
	return out
}

// Endpoint is the address the Kubernetes API is reached on: the VIP when one
// is set, otherwise the first control-plane node.
func (t Talos) Endpoint() netip.Addr {
	if t.VIP.IsValid() {
		return t.VIP
	}
	if cps := t.ControlPlanes(); len(cps) > 0 {
		return cps[0].IP
	}
	return netip.Addr{}
}
