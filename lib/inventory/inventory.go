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
type Inventory struct {
	// Schema is the inventory format version; it must equal SchemaVersion.
	Schema int `yaml:"schema" json:"schema"`
	// Network is the LAN and its address plan.
	Network Network `yaml:"network" json:"network"`
	// Hosts are the physical machines and core infrastructure with fixed addresses.
	Hosts []Host `yaml:"hosts" json:"hosts"`
	// Proxmox describes the hypervisor: node, bridge, storages and hardware.
	Proxmox Proxmox `yaml:"proxmox" json:"proxmox"`
	// Images are the golden VM templates of the traditional operating systems,
	// keyed by OS name (arch, debian, nixos, ubuntu, windows).
	Images map[string]Image `yaml:"images" json:"images"`
	// Talos is the Talos Linux cluster: version, image extensions and nodes.
	Talos Talos `yaml:"talos" json:"talos"`
	// Kubernetes holds the cluster version, its internal networks and add-on charts.
	Kubernetes Kubernetes `yaml:"kubernetes" json:"kubernetes"`
	// Services are the Kubernetes services published on fixed LoadBalancer addresses.
	Services []Service `yaml:"services,omitempty" json:"services,omitempty"`
	// VMs are the traditional virtual machines cloned from the images.
	VMs []VM `yaml:"vms,omitempty" json:"vms,omitempty"`
	// User is the admin account created on every traditional VM.
	User User `yaml:"user" json:"user"`
	// Tools maps each external tool to the version the project is tested with.
	Tools map[string]string `yaml:"tools" json:"tools"`
}

// Network is the homelab LAN.
type Network struct {
	// CIDR is the LAN prefix; every static address lies inside it.
	CIDR netip.Prefix `yaml:"cidr" json:"cidr"`
	// Gateway is the default router; it belongs to the infrastructure range.
	Gateway netip.Addr `yaml:"gateway" json:"gateway"`
	// Domain is the DNS domain of the homelab.
	Domain string `yaml:"domain" json:"domain"`
	// SearchDomains are appended to unqualified names by resolvers.
	SearchDomains []string `yaml:"search_domains,omitempty" json:"search_domains,omitempty"`
	// DNSServers are the resolvers every machine uses, in order.
	DNSServers []netip.Addr `yaml:"dns_servers" json:"dns_servers"`
	// NTPServers are the time servers every machine uses.
	NTPServers []string `yaml:"ntp_servers" json:"ntp_servers"`
	// Ranges splits the LAN into allocation ranges.
	Ranges Ranges `yaml:"ranges" json:"ranges"`
}

// Ranges is the address allocation plan. The ranges must not overlap.
type Ranges struct {
	// Infrastructure holds physical computers and core infrastructure: the
	// gateway, hosts[], Talos nodes and the Talos VIP.
	Infrastructure Range `yaml:"infrastructure" json:"infrastructure"`
	// Services holds the fixed LoadBalancer addresses of services[].
	Services Range `yaml:"services" json:"services"`
	// Applications is reserved for applications and services outside the cluster.
	Applications Range `yaml:"applications" json:"applications"`
	// VMs holds the addresses of vms[].
	VMs Range `yaml:"vms" json:"vms"`
	// LoadBalancer is the pool Cilium allocates LoadBalancer addresses from; no
	// static address may fall inside it.
	LoadBalancer Range `yaml:"load_balancer" json:"load_balancer"`
}

// Range is an inclusive range of addresses.
type Range struct {
	// Start is the first address of the range.
	Start netip.Addr `yaml:"start" json:"start"`
	// End is the last address of the range.
	End netip.Addr `yaml:"end" json:"end"`
	// Purpose says what the range is for.
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
	// Name is the host name (an RFC 1123 label).
	Name string `yaml:"name" json:"name"`
	// IP is the host's fixed address in the infrastructure range.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// Description says what the host is.
	Description string `yaml:"description" json:"description"`
}

// Proxmox describes the Proxmox VE host. Its API URL and token are never part
// of the inventory: they come from the environment.
type Proxmox struct {
	// Node is the PVE node name; it must equal the name of an entry in hosts.
	Node string `yaml:"node" json:"node"`
	// Bridge is the Linux bridge VMs attach their network interface to.
	Bridge string `yaml:"bridge" json:"bridge"`
	// Storage names the PVE storages the tools use.
	Storage Storage `yaml:"storage" json:"storage"`
	// Hardware records the host's capacity, used to check the VM plan fits.
	Hardware Hardware `yaml:"hardware" json:"hardware"`
}

// Storage names PVE storages by their role.
type Storage struct {
	// Import holds downloaded disk images (content type "import").
	Import string `yaml:"import" json:"import"`
	// ISO holds installer ISOs (content type "iso").
	ISO string `yaml:"iso" json:"iso"`
	// Disks holds VM disks (content type "images").
	Disks string `yaml:"disks" json:"disks"`
}

// Hardware is the capacity of the Proxmox host.
type Hardware struct {
	// CPU is the processor model, for the record.
	CPU string `yaml:"cpu" json:"cpu"`
	// Cores is the number of physical cores; no VM may have more.
	Cores int `yaml:"cores" json:"cores"`
	// MemoryGiB is the installed memory.
	MemoryGiB int `yaml:"memory_gib" json:"memory_gib"`
	// ReservedMemoryGiB is kept for Proxmox itself (ZFS ARC and services); the
	// enabled VMs and Talos nodes must fit in the rest.
	ReservedMemoryGiB int `yaml:"reserved_memory_gib" json:"reserved_memory_gib"`
}

// Image is the golden template of a traditional operating system: a base VM
// built from the vendor's cloud image and the template made from it.
type Image struct {
	// Release is the OS release the image tracks ("24.04", "13", "rolling").
	Release string `yaml:"release" json:"release"`
	// BaseVMID is the VM holding the imported vendor cloud image.
	BaseVMID int `yaml:"base_vm_id" json:"base_vm_id"`
	// TemplateID is the VM ID of the finished golden template.
	TemplateID int `yaml:"template_id" json:"template_id"`
	// DefaultUser is the account the vendor image ships with.
	DefaultUser string `yaml:"default_user" json:"default_user"`
	// Media are the installation ISOs of an image installed from media
	// instead of a cloud image (Windows); zero when none are set.
	Media Media `yaml:"media,omitempty" json:"media,omitzero"`
}

// Media are an image's installation ISOs. Each is a volume already on
// proxmox.storage.iso ("local:iso/windows.iso") or an http(s) URL Packer
// downloads and uploads, which then needs its checksum ("sha256:<hex>").
type Media struct {
	// ISO is the installer ISO; ISOChecksum its checksum when ISO is a URL.
	ISO         string `yaml:"iso" json:"iso"`
	ISOChecksum string `yaml:"iso_checksum,omitempty" json:"iso_checksum,omitempty"`
	// VirtioISO is the virtio-win drivers ISO; VirtioISOChecksum its
	// checksum when VirtioISO is a URL.
	VirtioISO         string `yaml:"virtio_iso" json:"virtio_iso"`
	VirtioISOChecksum string `yaml:"virtio_iso_checksum,omitempty" json:"virtio_iso_checksum,omitempty"`
}

// Set reports whether any ISO is given.
func (m Media) Set() bool { return m != Media{} }

// Talos is the Talos Linux cluster.
type Talos struct {
	// Version is the Talos release, "vMAJOR.MINOR.PATCH".
	Version string `yaml:"version" json:"version"`
	// ClusterName names the cluster in the Talos and Kubernetes configs.
	ClusterName string `yaml:"cluster_name" json:"cluster_name"`
	// TemplateID is the VM ID of the Talos template imported from the Image Factory.
	TemplateID int `yaml:"template_id" json:"template_id"`
	// FactoryURL is the Talos Image Factory base URL.
	FactoryURL string `yaml:"factory_url" json:"factory_url"`
	// InstallDisk is the device Talos installs itself to.
	InstallDisk string `yaml:"install_disk" json:"install_disk"`
	// DiskEncryption seals STATE and EPHEMERAL with LUKS2 keys held by the TPM.
	DiskEncryption bool `yaml:"disk_encryption,omitempty" json:"disk_encryption"`
	// VIP is the shared control-plane address; required with more than one
	// control-plane node.
	VIP netip.Addr `yaml:"vip,omitempty" json:"vip,omitzero"`
	// Extensions are the official system extensions baked into every image.
	Extensions []string `yaml:"extensions" json:"extensions"`
	// GPUExtensions are added to the image when a node has its GPU enabled.
	GPUExtensions []string `yaml:"gpu_extensions,omitempty" json:"gpu_extensions,omitempty"`
	// KernelArgs are extra kernel arguments baked into the image.
	KernelArgs []string `yaml:"kernel_args,omitempty" json:"kernel_args,omitempty"`
	// Nodes are the cluster's machines.
	Nodes []TalosNode `yaml:"nodes" json:"nodes"`
}

// TalosNode is one Talos VM.
type TalosNode struct {
	// Name is the node's host name.
	Name string `yaml:"name" json:"name"`
	// Role is RoleControlPlane or RoleWorker.
	Role string `yaml:"role" json:"role"`
	// VMID is the node's Proxmox VM ID.
	VMID int `yaml:"vm_id" json:"vm_id"`
	// IP is the node's static address in the infrastructure range.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// Cores is the number of vCPUs.
	Cores int `yaml:"cores" json:"cores"`
	// MemoryMiB is the node's memory.
	MemoryMiB int `yaml:"memory_mib" json:"memory_mib"`
	// OSDiskGiB is the size of the system disk.
	OSDiskGiB int `yaml:"os_disk_gib" json:"os_disk_gib"`
	// DataDiskGiB is the size of the second disk that holds Longhorn volumes;
	// zero means no data disk.
	DataDiskGiB int `yaml:"data_disk_gib,omitempty" json:"data_disk_gib,omitempty"`
	// GPU is the PCI passthrough of a GPU to this node.
	GPU GPU `yaml:"gpu,omitempty" json:"gpu"`
}

// GPU describes PCI passthrough of a GPU (and its audio function).
type GPU struct {
	// Enabled turns passthrough and the NVIDIA extensions on.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Mapping is the name of the PVE PCI resource mapping for the device.
	Mapping string `yaml:"mapping,omitempty" json:"mapping,omitempty"`
	// PCI are the host PCI addresses passed through, e.g. "07:00.0".
	PCI []string `yaml:"pci,omitempty" json:"pci,omitempty"`
}

// Kubernetes is the cluster's Kubernetes layer.
type Kubernetes struct {
	// Version is the Kubernetes release, "vMAJOR.MINOR.PATCH".
	Version string `yaml:"version" json:"version"`
	// PodCIDR is the pod network; it must not overlap the LAN or ServiceCIDR.
	PodCIDR netip.Prefix `yaml:"pod_cidr" json:"pod_cidr"`
	// ServiceCIDR is the service network; it must not overlap the LAN or PodCIDR.
	ServiceCIDR netip.Prefix `yaml:"service_cidr" json:"service_cidr"`
	// Charts are the Helm charts of the add-ons, keyed by release name; the
	// keys are the add-ons of KnownCharts.
	Charts map[string]Chart `yaml:"charts,omitempty" json:"charts,omitempty"`
	// NFS is the NAS's NFS exports the add-ons use; required with the
	// longhorn or csi-driver-nfs chart.
	NFS NFS `yaml:"nfs,omitempty" json:"nfs,omitzero"`
	// GitOps is the git source Flux reconciles; required with the flux2
	// chart.
	GitOps GitOps `yaml:"gitops,omitempty" json:"gitops,omitzero"`
}

// NFS names the NFS exports of a host of hosts.
type NFS struct {
	// Server is the name of the host in hosts that serves the exports.
	Server string `yaml:"server" json:"server"`
	// BackupExport is the absolute path of the export Longhorn keeps its
	// backups on (backup target nfs://<server ip>:<backup_export>).
	BackupExport string `yaml:"backup_export" json:"backup_export"`
	// VolumeExport is the absolute path of the export the NFS CSI driver's
	// StorageClass makes volumes in.
	VolumeExport string `yaml:"volume_export" json:"volume_export"`
}

// GitOps is the git repository, branch and folder Flux follows.
type GitOps struct {
	// URL is the repository's git URL, https:// or ssh://.
	URL string `yaml:"url" json:"url"`
	// Branch is the branch Flux follows.
	Branch string `yaml:"branch" json:"branch"`
	// Path is the folder, relative to the repository root, Flux applies
	// with kustomize (kubernetes/apps).
	Path string `yaml:"path" json:"path"`
}

// Chart pins one Helm chart.
type Chart struct {
	// Repository is the chart repository URL (https:// or oci://).
	Repository string `yaml:"repository" json:"repository"`
	// Chart is the chart name in the repository.
	Chart string `yaml:"chart" json:"chart"`
	// Version is the exact chart version.
	Version string `yaml:"version" json:"version"`
	// Namespace is the namespace the release is installed into.
	Namespace string `yaml:"namespace" json:"namespace"`
}

// Service is a Kubernetes service published on a fixed LoadBalancer address.
type Service struct {
	// Name is the service's host name.
	Name string `yaml:"name" json:"name"`
	// IP is the fixed address in the services range.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// Namespace is where the service lives.
	Namespace string `yaml:"namespace" json:"namespace"`
	// Ports are the TCP ports the service exposes.
	Ports []int `yaml:"ports" json:"ports"`
	// Description says what the service is.
	Description string `yaml:"description" json:"description"`
}

// VM is a traditional virtual machine cloned from one of the images.
type VM struct {
	// Name is the VM's host name.
	Name string `yaml:"name" json:"name"`
	// VMID is the VM's Proxmox ID.
	VMID int `yaml:"vm_id" json:"vm_id"`
	// IP is the VM's static address in the vms range.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// Image is the key of the image in images the VM is cloned from.
	Image string `yaml:"image" json:"image"`
	// Cores is the number of vCPUs.
	Cores int `yaml:"cores" json:"cores"`
	// MemoryMiB is the VM's memory.
	MemoryMiB int `yaml:"memory_mib" json:"memory_mib"`
	// DiskGiB is the size of the system disk.
	DiskGiB int `yaml:"disk_gib" json:"disk_gib"`
	// Enabled says whether the VM is deployed; disabled VMs keep their
	// address and ID reserved.
	Enabled bool `yaml:"enabled" json:"enabled"`
}

// User is the admin account on the traditional VMs.
type User struct {
	// Name is the login name.
	Name string `yaml:"name" json:"name"`
	// Shell is the login shell's absolute path.
	Shell string `yaml:"shell" json:"shell"`
	// Timezone is an IANA time zone name.
	Timezone string `yaml:"timezone" json:"timezone"`
	// Locale is the system locale, e.g. en_US.UTF-8.
	Locale string `yaml:"locale" json:"locale"`
	// SSHPublicKeys are the keys authorised to log in as the user.
	SSHPublicKeys []string `yaml:"ssh_public_keys" json:"ssh_public_keys"`
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
