package inventory

import (
	"fmt"
	"iter"
	"maps"
	"net/netip"
	"net/url"
	pathpkg "path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	// The time zone check must not depend on the machine's zoneinfo.
	_ "time/tzdata"

	"golang.org/x/crypto/ssh"
)

// Limits from the Proxmox VE API schema and the Talos system requirements.
const (
	minVMID             = 100
	maxVMID             = 999999999
	minTalosCPMemoryMiB = 2048
	minTalosMemoryMiB   = 1024
	minTalosDiskGiB     = 10
	minVMMemoryMiB      = 512
)

// KnownCharts returns the add-ons kubernetes.charts may pin, each keyed by
// its release name.
func KnownCharts() []string {
	return []string{"alloy", "cilium", "csi-driver-nfs", "flux2", "forgejo", "kube-prometheus-stack", "loki", "longhorn", "nvidia-device-plugin"}
}

// KnownImages returns the operating systems that images may hold.
func KnownImages() []string { return []string{"arch", "debian", "nixos", "ubuntu", "windows"} }

var (
	labelRe     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	toolRe      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	storageRe   = regexp.MustCompile(`(?i)^[a-z][a-z0-9_.-]*[a-z0-9]$`)
	ifaceRe     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$`)
	mappingRe   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,127}$`)
	pciRe       = regexp.MustCompile(`^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:([0-9a-fA-F]{2})\.([0-9a-fA-F])$`)
	releaseRe   = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)
	semverRe    = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	extensionRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9._-]*$`)
	userRe      = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	localeRe    = regexp.MustCompile(`^([a-zA-Z]{2,3}(_[A-Z]{2})?|C|POSIX)(\.[A-Za-z0-9-]+)?(@[A-Za-z0-9]+)?$`)
	diskRe      = regexp.MustCompile(`^/dev/[a-zA-Z0-9/._-]+$`)
	chartNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	exportRe    = regexp.MustCompile(`^(/[A-Za-z0-9._@+-]+)+$`)
	branchRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
	gitPathRe   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)
)

// checker runs the semantic checks on a decoded inventory.
type checker struct {
	*problems
	inv *Inventory
	// skip holds paths whose value failed to decode; checks on them and
	// their children would only repeat the problem.
	skip map[string]bool
	net  netip.Prefix
}

// report records a problem unless the path (or a parent) already failed to
// decode.
func (c *checker) report(path, format string, args ...any) {
	if !c.failed(path) {
		c.add(path, format, args...)
	}
}

// failed reports whether path, or a parent of it, failed to decode. Checks
// that compare against another section use it to avoid reporting a problem
// that only follows from that section's own.
func (c *checker) failed(path string) bool {
	for p := path; p != ""; p = parentPath(p) {
		if c.skip[p] {
			return true
		}
	}
	return false
}

func validate(inv *Inventory, ps *problems) {
	c := &checker{problems: ps, inv: inv, skip: maps.Clone(ps.failed)}
	if inv.Schema != SchemaVersion {
		c.report("schema", "unsupported schema %d; this version of the tools reads schema %d", inv.Schema, SchemaVersion)
	}
	c.network()
	c.hosts()
	c.proxmox()
	c.images()
	c.talos()
	c.kubernetes()
	c.services()
	c.vms()
	c.user()
	c.tools()
	c.uniqueAddresses()
	c.uniqueNames()
	c.uniqueVMIDs()
	c.memoryFits()
}

func (c *checker) network() {
	n := c.inv.Network
	switch {
	case !n.CIDR.IsValid():
	case !n.CIDR.Addr().Is4():
		c.report("network.cidr", "%s is not an IPv4 network; the homelab plan is IPv4", n.CIDR)
	case n.CIDR.Masked() != n.CIDR:
		c.report("network.cidr", "%s has host bits set; did you mean %s?", n.CIDR, n.CIDR.Masked())
	case n.CIDR.Bits() < 8 || n.CIDR.Bits() > 30:
		c.report("network.cidr", "%s must have a prefix length between /8 and /30", n.CIDR)
	default:
		c.net = n.CIDR
	}
	c.checkDomain("network.domain", n.Domain)
	for i, d := range n.SearchDomains {
		c.checkDomain(fmt.Sprintf("network.search_domains[%d]", i), d)
	}
	if len(n.DNSServers) == 0 {
		c.report("network.dns_servers", "list at least one DNS server")
	}
	for i, a := range n.DNSServers {
		if a.IsValid() && !a.Is4() {
			c.report(fmt.Sprintf("network.dns_servers[%d]", i), "%s is not an IPv4 address", a)
		}
	}
	if len(n.NTPServers) == 0 {
		c.report("network.ntp_servers", "list at least one time server")
	}
	for i, s := range n.NTPServers {
		if _, err := netip.ParseAddr(s); err != nil && !isDomain(s) {
			c.report(fmt.Sprintf("network.ntp_servers[%d]", i), "%q is neither a host name nor an IP address", s)
		}
	}
	ranges := n.Ranges.List()
	for _, r := range ranges {
		c.checkRange("network.ranges."+r.Name, r.Range)
	}
	for i, a := range ranges {
		for _, b := range ranges[i+1:] {
			if a.Size() > 0 && b.Size() > 0 && a.Start.Compare(b.End) <= 0 && b.Start.Compare(a.End) <= 0 {
				c.report("network.ranges."+b.Name, "%s overlaps the %s range %s; allocation ranges must be disjoint", b.Range, a.Name, a.Range)
			}
		}
	}
	c.checkAddr("network.gateway", n.Gateway, "infrastructure")
}

// checkRange checks one allocation range.
func (c *checker) checkRange(path string, r Range) {
	c.checkInNetwork(path+".start", r.Start)
	c.checkInNetwork(path+".end", r.End)
	if r.Start.IsValid() && r.End.IsValid() && r.End.Less(r.Start) {
		c.report(path+".end", "%s comes before the start %s", r.End, r.Start)
	}
	if strings.TrimSpace(r.Purpose) == "" {
		c.report(path+".purpose", "say what the range is for")
	}
}

// checkInNetwork checks that a is a usable address of the LAN and reports
// whether it is.
func (c *checker) checkInNetwork(path string, a netip.Addr) bool {
	switch {
	case !a.IsValid():
		return false
	case !a.Is4():
		c.report(path, "%s is not an IPv4 address", a)
	case !c.net.IsValid():
		return false
	case !c.net.Contains(a):
		c.report(path, "%s is outside network %s", a, c.net)
	case a == c.net.Addr():
		c.report(path, "%s is the network address of %s, not a usable host address", a, c.net)
	case a == lastAddr(c.net):
		c.report(path, "%s is the broadcast address of %s, not a usable host address", a, c.net)
	default:
		return true
	}
	return false
}

// checkAddr checks that a is in the LAN and inside the named range.
func (c *checker) checkAddr(path string, a netip.Addr, rangeName string) {
	if !c.checkInNetwork(path, a) {
		return
	}
	ranges := c.inv.Network.Ranges.List()
	want := ranges[slices.IndexFunc(ranges, func(r NamedRange) bool { return r.Name == rangeName })]
	if want.Size() == 0 || want.Contains(a) {
		return
	}
	where := "which is in no allocation range"
	for _, r := range ranges {
		if r.Contains(a) {
			where = fmt.Sprintf("which is in the %s range", r.Name)
		}
	}
	c.report(path, "%s is outside the %s range %s (%s)", a, rangeName, want.Range, where)
}

func (c *checker) hosts() {
	if len(c.inv.Hosts) == 0 {
		c.report("hosts", "list at least the Proxmox host")
	}
	for i, h := range c.inv.Hosts {
		p := fmt.Sprintf("hosts[%d]", i)
		c.checkLabel(p+".name", h.Name)
		c.checkAddr(p+".ip", h.IP, "infrastructure")
		c.checkText(p+".description", h.Description)
	}
}

func (c *checker) proxmox() {
	px := c.inv.Proxmox
	if c.checkLabel("proxmox.node", px.Node) && !c.failed("hosts") && !slices.ContainsFunc(c.inv.Hosts, func(h Host) bool { return h.Name == px.Node }) {
		c.report("proxmox.node", "no entry in hosts is named %q; add the Proxmox host to hosts with its address%s", px.Node, nonASCIINote(px.Node))
	}
	if px.Bridge != "" && !ifaceRe.MatchString(px.Bridge) {
		c.report("proxmox.bridge", "%q is not a valid Linux bridge name (e.g. vmbr0)", px.Bridge)
	}
	for path, id := range map[string]string{
		"proxmox.storage.import": px.Storage.Import,
		"proxmox.storage.iso":    px.Storage.ISO,
		"proxmox.storage.disks":  px.Storage.Disks,
	} {
		if id != "" && !storageRe.MatchString(id) {
			c.report(path, "%q is not a valid Proxmox storage ID (letters, digits, '-', '_' and '.', starting with a letter)", id)
		}
	}
	hw := px.Hardware
	c.checkPositive("proxmox.hardware.cores", hw.Cores)
	c.checkPositive("proxmox.hardware.memory_gib", hw.MemoryGiB)
	if hw.ReservedMemoryGiB < 0 || (hw.MemoryGiB > 0 && hw.ReservedMemoryGiB >= hw.MemoryGiB) {
		c.report("proxmox.hardware.reserved_memory_gib", "%d must be at least 0 and less than memory_gib (%d)", hw.ReservedMemoryGiB, hw.MemoryGiB)
	}
	c.checkText("proxmox.hardware.cpu", hw.CPU)
}

func (c *checker) images() {
	for _, name := range c.inv.ImageNames() {
		img, p := c.inv.Images[name], "images."+name
		if known := KnownImages(); !slices.Contains(known, name) {
			c.report(p, "unknown image %q; images may be: %s%s", name, strings.Join(known, ", "), nonASCIINote(name))
			continue
		}
		c.checkText(p+".release", img.Release)
		c.checkUser(p+".default_user", img.DefaultUser)
		c.checkMedia(name, p+".media", img.Media)
	}
}

// mediaOSes are the images installed from ISOs rather than a cloud image.
var mediaOSes = []string{"windows"}

// checkMedia checks an image's installation ISOs: only for an image
// installed from media, each a volume on the ISO storage or an http(s)
// URL with its checksum.
func (c *checker) checkMedia(name, p string, m Media) {
	if !m.Set() {
		return
	}
	if !slices.Contains(mediaOSes, name) {
		c.report(p, "only %s installs from ISOs; %s is imported from its cloud image: remove media", strings.Join(mediaOSes, ", "), name)
		return
	}
	c.checkISO(p+".iso", m.ISO, p+".iso_checksum", m.ISOChecksum)
	c.checkISO(p+".virtio_iso", m.VirtioISO, p+".virtio_iso_checksum", m.VirtioISOChecksum)
}

// checkISO checks one ISO: a volume such as local:iso/x.iso (no checksum:
// PVE holds the file), or an http(s) URL with a sha256:<hex> checksum.
func (c *checker) checkISO(p, iso, sumPath, sum string) {
	u, err := url.Parse(iso)
	isURL := err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
	switch {
	case iso == "":
		c.report(p, "missing: a volume on proxmox.storage.iso such as local:iso/windows-server-2025.iso, or an http(s) URL with %s", sumPath)
	case isURL && !isoSumRe.MatchString(sum):
		c.report(sumPath, "%q is not a checksum such as sha256:<64 hex digits>; a URL needs one, so the download is verified", sum)
	case !isURL && !isoVolumeRe.MatchString(iso):
		c.report(p, "%q is neither a volume such as local:iso/windows-server-2025.iso nor an http(s) URL", iso)
	case !isURL && sum != "":
		c.report(sumPath, "set only for a URL: PVE already holds %s", iso)
	}
}

var (
	isoVolumeRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_.-]*:iso/[^/\s]+\.(?i:iso)$`)
	isoSumRe    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

func (c *checker) talos() {
	t := c.inv.Talos
	talosRelease := c.checkRelease("talos.version", t.Version, "a Talos release such as v1.12.7")
	c.checkLabel("talos.cluster_name", t.ClusterName)
	if u, err := url.Parse(t.FactoryURL); t.FactoryURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
		c.report("talos.factory_url", "%q is not an http(s) URL such as https://factory.talos.dev", t.FactoryURL)
	}
	if t.InstallDisk != "" && !diskRe.MatchString(t.InstallDisk) {
		c.report("talos.install_disk", "%q is not a device path such as /dev/sda", t.InstallDisk)
	}
	if len(t.Extensions) == 0 {
		c.report("talos.extensions", "list the system extensions; Longhorn needs at least siderolabs/iscsi-tools and siderolabs/util-linux-tools")
	}
	seen := map[string]string{}
	c.checkExtensions("talos.extensions", t.Extensions, seen)
	c.checkExtensions("talos.gpu_extensions", t.GPUExtensions, seen)
	for i, a := range t.KernelArgs {
		if a == "" || strings.ContainsAny(a, " \t\n") {
			c.report(fmt.Sprintf("talos.kernel_args[%d]", i), "%q must be one non-empty argument without spaces", a)
		}
	}
	if t.EtcdSnapshotsKeep < 0 {
		c.report("talos.etcd_snapshots_keep", "%d: keep at least one snapshot (or leave it out for %d)", t.EtcdSnapshotsKeep, DefaultEtcdSnapshotsKeep)
	}
	c.talosNodes()
	if t.VIP.IsValid() {
		c.checkAddr("talos.vip", t.VIP, "infrastructure")
	}
	c.checkVersions(talosRelease, c.checkRelease("kubernetes.version", c.inv.Kubernetes.Version, "a Kubernetes release such as v1.35.4"))
}

func (c *checker) talosNodes() {
	t := c.inv.Talos
	if len(t.Nodes) == 0 {
		c.report("talos.nodes", "list at least one node")
		return
	}
	cps := len(t.ControlPlanes())
	switch {
	case cps == 0:
		c.report("talos.nodes", "no node has role %q; a cluster needs at least one control plane", RoleControlPlane)
	case cps%2 == 0:
		c.report("talos.nodes", "%d control-plane nodes: etcd needs an odd number (1 or 3) to keep quorum", cps)
	case cps > 1 && !t.VIP.IsValid():
		c.report("talos.vip", "required with %d control-plane nodes: the VIP is the cluster endpoint", cps)
	}
	gpuOwner := map[string]string{}
	for i, n := range t.Nodes {
		p := fmt.Sprintf("talos.nodes[%d]", i)
		c.checkLabel(p+".name", n.Name)
		c.checkAddr(p+".ip", n.IP, "infrastructure")
		minMem := minTalosMemoryMiB
		switch n.Role {
		case RoleControlPlane:
			minMem = minTalosCPMemoryMiB
		case RoleWorker:
		default:
			c.report(p+".role", "%q is not a role; use %q or %q%s", n.Role, RoleControlPlane, RoleWorker, nonASCIINote(n.Role))
		}
		c.checkCores(p+".cores", n.Cores)
		if n.MemoryMiB < minMem {
			c.report(p+".memory_mib", "%d MiB is below the %d MiB Talos needs for this role", n.MemoryMiB, minMem)
		}
		if n.OSDiskGiB < minTalosDiskGiB {
			c.report(p+".os_disk_gib", "%d GiB is below the %d GiB Talos needs", n.OSDiskGiB, minTalosDiskGiB)
		}
		if n.DataDiskGiB < 0 {
			c.report(p+".data_disk_gib", "%d must be 0 (no data disk) or a size in GiB", n.DataDiskGiB)
		}
		c.checkGPU(p+".gpu", n, gpuOwner)
	}
	if c.inv.GPUExtensionsNeeded() && len(t.GPUExtensions) == 0 {
		c.report("talos.gpu_extensions", "a node passes a GPU through; list the NVIDIA extensions (siderolabs/nonfree-kmod-nvidia-production, siderolabs/nvidia-container-toolkit-production)")
	}
}

// checkGPU checks a node's passthrough settings; owner records which node
// each PCI address is already given to.
func (c *checker) checkGPU(path string, n TalosNode, owner map[string]string) {
	g := n.GPU
	if !g.Enabled {
		return
	}
	if !mappingRe.MatchString(g.Mapping) {
		c.report(path+".mapping", "%q is not a PCI resource mapping name; create one under Datacenter → Resource Mappings and name it here", g.Mapping)
	}
	if len(g.PCI) == 0 {
		c.report(path+".pci", "list the PCI addresses to pass through, e.g. 07:00.0 and 07:00.1")
	}
	for i, a := range g.PCI {
		p := fmt.Sprintf("%s.pci[%d]", path, i)
		if !c.checkPCI(p, a) {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(a, "0000:"))
		if prev, ok := owner[key]; ok {
			c.report(p, "%s is already passed through to %s; a PCI device can belong to one VM only", a, prev)
		}
		owner[key] = n.Name
	}
}

// checkPCI checks a PCI address, [domain:]bus:device.function, and reports
// whether it is one.
func (c *checker) checkPCI(path, a string) bool {
	m := pciRe.FindStringSubmatch(a)
	if m == nil {
		c.report(path, "%q is not a PCI address such as 07:00.0 or 0000:07:00.0", a)
		return false
	}
	why := ""
	if dev, _ := strconv.ParseUint(m[1], 16, 8); dev > 0x1f {
		why = fmt.Sprintf("device %s is above 1f", m[1])
	} else if fn, _ := strconv.ParseUint(m[2], 16, 8); fn > 7 {
		why = fmt.Sprintf("function %s is above 7", m[2])
	}
	if why != "" {
		c.report(path, "%q is not a PCI address: %s (the form is [domain:]bus:device.function with bus 00-ff, device 00-1f and function 0-7, e.g. 07:00.0)", a, why)
		return false
	}
	return true
}

func (c *checker) checkExtensions(path string, exts []string, seen map[string]string) {
	for i, e := range exts {
		p := fmt.Sprintf("%s[%d]", path, i)
		if !extensionRe.MatchString(e) {
			c.report(p, "%q is not an extension name such as siderolabs/iscsi-tools%s", e, nonASCIINote(e))
			continue
		}
		if prev, ok := seen[e]; ok {
			c.report(p, "%s is already listed at %s", e, prev)
		}
		seen[e] = p
	}
}

func (c *checker) kubernetes() {
	k := c.inv.Kubernetes
	c.checkClusterNet("kubernetes.pod_cidr", k.PodCIDR)
	c.checkClusterNet("kubernetes.service_cidr", k.ServiceCIDR)
	if k.PodCIDR.IsValid() && k.ServiceCIDR.IsValid() && k.PodCIDR.Overlaps(k.ServiceCIDR) {
		c.report("kubernetes.service_cidr", "%s overlaps the pod network %s", k.ServiceCIDR, k.PodCIDR)
	}
	for _, name := range c.inv.ChartNames() {
		ch, p := k.Charts[name], "kubernetes.charts."+name
		if known := KnownCharts(); !slices.Contains(known, name) {
			c.report(p, "unknown add-on %q; kubernetes.charts may pin: %s%s", name, strings.Join(known, ", "), nonASCIINote(name))
			continue
		}
		if ch.Repository != "" && !strings.HasPrefix(ch.Repository, "https://") && !strings.HasPrefix(ch.Repository, "oci://") {
			c.report(p+".repository", "%q must be an https:// or oci:// URL", ch.Repository)
		}
		if ch.Chart != "" && !chartNameRe.MatchString(ch.Chart) {
			c.report(p+".chart", "%q is not a chart name", ch.Chart)
		}
		c.checkSemver(p+".version", ch.Version)
		c.checkLabel(p+".namespace", ch.Namespace)
	}
	c.nfs()
	c.gitops()
}

// nfs checks kubernetes.nfs: its server is a host of hosts and its exports
// are absolute paths; it is required by the charts that use the NAS.
func (c *checker) nfs() {
	n := c.inv.Kubernetes.NFS
	if n == (NFS{}) {
		for _, chart := range []string{"longhorn", "csi-driver-nfs"} {
			if _, ok := c.inv.Kubernetes.Charts[chart]; ok && !c.failed("kubernetes.nfs") {
				c.report("kubernetes.charts."+chart, "the %s add-on needs the NAS: add kubernetes.nfs with server (a host of hosts), backup_export and volume_export", chart)
			}
		}
		return
	}
	if c.checkLabel("kubernetes.nfs.server", n.Server) && !c.failed("hosts") && !slices.ContainsFunc(c.inv.Hosts, func(h Host) bool { return h.Name == n.Server }) {
		var names []string
		for _, h := range c.inv.Hosts {
			names = append(names, h.Name)
		}
		c.report("kubernetes.nfs.server", "no entry in hosts is named %q; name the NAS as listed in hosts (%s)%s", n.Server, strings.Join(names, ", "), nonASCIINote(n.Server))
	}
	for _, x := range []struct{ path, export string }{{"kubernetes.nfs.backup_export", n.BackupExport}, {"kubernetes.nfs.volume_export", n.VolumeExport}} {
		if path, e := x.path, x.export; e != "" && (!exportRe.MatchString(e) || pathpkg.Clean(e) != e) {
			c.report(path, "%q is not an absolute export path such as /volume1/longhorn (letters, digits, '.', '_', '-', '@', '+' between single slashes, no trailing slash)", e)
		}
	}
	if n.BackupExport != "" && n.BackupExport == n.VolumeExport {
		c.report("kubernetes.nfs.volume_export", "%s is also the backup_export; give Longhorn's backups and the NFS volumes separate exports so a volume cannot overwrite a backup", n.VolumeExport)
	}
}

// gitops checks kubernetes.gitops, the git source Flux follows; it is
// required by the flux2 chart.
func (c *checker) gitops() {
	g := c.inv.Kubernetes.GitOps
	if g == (GitOps{}) {
		if _, ok := c.inv.Kubernetes.Charts["flux2"]; ok && !c.failed("kubernetes.gitops") {
			c.report("kubernetes.charts.flux2", "Flux needs the repository it follows: add kubernetes.gitops with url, branch and path")
		}
		return
	}
	if u, err := url.Parse(g.URL); g.URL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "ssh") || u.RawQuery != "" || u.Fragment != "") {
		c.report("kubernetes.gitops.url", "%q is not a git URL Flux can clone: use https://host/owner/repo.git or ssh://git@host/owner/repo.git (not the scp form git@host:owner/repo)", g.URL)
	}
	if g.Branch != "" && (!branchRe.MatchString(g.Branch) || strings.Contains(g.Branch, "..") || strings.HasSuffix(g.Branch, "/") || strings.HasSuffix(g.Branch, ".lock")) {
		c.report("kubernetes.gitops.branch", "%q is not a git branch name such as main", g.Branch)
	}
	if g.Path != "" && (!gitPathRe.MatchString(g.Path) || pathpkg.Clean(g.Path) != g.Path) {
		c.report("kubernetes.gitops.path", "%q is not a folder relative to the repository root such as kubernetes/apps (no leading ./ or /, no ..)", g.Path)
	}
}

// checkClusterNet checks a cluster-internal network: a masked IPv4 prefix
// that does not overlap the LAN.
func (c *checker) checkClusterNet(path string, p netip.Prefix) {
	switch {
	case !p.IsValid():
	case !p.Addr().Is4():
		c.report(path, "%s is not an IPv4 network", p)
	case p.Masked() != p:
		c.report(path, "%s has host bits set; did you mean %s?", p, p.Masked())
	case c.net.IsValid() && p.Overlaps(c.net):
		c.report(path, "%s overlaps the LAN %s; pick a private range the LAN does not use", p, c.net)
	}
}

func (c *checker) services() {
	for i, s := range c.inv.Services {
		p := fmt.Sprintf("services[%d]", i)
		c.checkLabel(p+".name", s.Name)
		c.checkAddr(p+".ip", s.IP, "services")
		c.checkLabel(p+".namespace", s.Namespace)
		c.checkText(p+".description", s.Description)
		if len(s.Ports) == 0 {
			c.report(p+".ports", "list the ports the service exposes")
		}
		first := map[int]string{}
		for j, port := range s.Ports {
			pp := fmt.Sprintf("%s.ports[%d]", p, j)
			if port < 1 || port > 65535 {
				c.report(pp, "%d is not a port number (1–65535)", port)
				continue
			}
			if prev, ok := first[port]; ok {
				c.report(pp, "port %d is listed twice; it is first listed at %s (line %d)", port, prev, c.pos.line(prev))
				continue
			}
			first[port] = pp
		}
	}
}

func (c *checker) vms() {
	for i, v := range c.inv.VMs {
		p := fmt.Sprintf("vms[%d]", i)
		c.checkLabel(p+".name", v.Name)
		c.checkAddr(p+".ip", v.IP, "vms")
		if _, ok := c.inv.Images[v.Image]; v.Image != "" && !ok && !c.failed("images") {
			c.report(p+".image", "no image named %q; images has: %s%s", v.Image, strings.Join(c.inv.ImageNames(), ", "), nonASCIINote(v.Image))
		}
		c.checkCores(p+".cores", v.Cores)
		if v.MemoryMiB < minVMMemoryMiB {
			c.report(p+".memory_mib", "%d MiB is below the %d MiB minimum", v.MemoryMiB, minVMMemoryMiB)
		}
		c.checkPositive(p+".disk_gib", v.DiskGiB)
	}
}

func (c *checker) user() {
	u := c.inv.User
	if c.checkUser("user.name", u.Name) && u.Name == "root" {
		c.report("user.name", "the admin user must not be root; root login is disabled on every VM")
	}
	if u.Shell != "" && !strings.HasPrefix(u.Shell, "/") {
		c.report("user.shell", "%q must be an absolute path such as /bin/bash", u.Shell)
	}
	if u.Timezone != "" {
		if _, err := time.LoadLocation(u.Timezone); err != nil || u.Timezone == "Local" {
			c.report("user.timezone", "%q is not an IANA time zone such as America/El_Salvador", u.Timezone)
		}
	}
	if u.Locale != "" && !localeRe.MatchString(u.Locale) {
		c.report("user.locale", "%q is not a locale such as en_US.UTF-8", u.Locale)
	}
	if len(u.SSHPublicKeys) == 0 {
		c.report("user.ssh_public_keys", "list at least one SSH public key; password login is disabled")
	}
	for i, k := range u.SSHPublicKeys {
		p := fmt.Sprintf("user.ssh_public_keys[%d]", i)
		if strings.Contains(k, "PRIVATE KEY") {
			c.report(p, "this is a private key: remove it from the file now and rotate it; only public keys (ssh-ed25519 AAAA…) belong here")
			continue
		}
		if _, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(k)); err != nil || len(strings.TrimSpace(string(rest))) > 0 {
			c.report(p, "not a single SSH public key in authorized_keys format (ssh-ed25519 AAAA… comment)")
		}
	}
}

func (c *checker) tools() {
	if len(c.inv.Tools) == 0 {
		c.report("tools", "list the tool versions the project is tested with")
	}
	for _, name := range c.inv.ToolNames() {
		p := "tools." + name
		if !toolRe.MatchString(name) {
			c.report(p, "%q is not a tool name (lower-case letters, digits, '-' and '_')%s", name, nonASCIINote(name))
		}
		c.checkSemver(p, c.inv.Tools[name])
	}
}

// repeats yields each item whose key an earlier item already has, with
// that first item; items whose key is not ok are left out. It is the one
// "seen" loop of the uniqueness checks.
func repeats[T any, K comparable](items []T, key func(T) (K, bool)) iter.Seq2[T, T] {
	return func(yield func(T, T) bool) {
		seen := make(map[K]T, len(items))
		for _, it := range items {
			k, ok := key(it)
			if !ok {
				continue
			}
			if first, dup := seen[k]; dup {
				if !yield(it, first) {
					return
				}
				continue
			}
			seen[k] = it
		}
	}
}

func (c *checker) uniqueAddresses() {
	byIP := func(a Address) (netip.Addr, bool) { return a.IP, a.IP.IsValid() }
	for a, prev := range repeats(c.inv.Addresses(), byIP) {
		c.report(a.Path, "%s is already assigned to %s (%s, line %d)", a.IP, prev.Name, prev.Path, c.pos.line(prev.Path))
	}
}

func (c *checker) uniqueNames() {
	type named struct{ name, path string }
	var all []named
	for i, h := range c.inv.Hosts {
		all = append(all, named{h.Name, fmt.Sprintf("hosts[%d].name", i)})
	}
	for i, n := range c.inv.Talos.Nodes {
		all = append(all, named{n.Name, fmt.Sprintf("talos.nodes[%d].name", i)})
	}
	for i, s := range c.inv.Services {
		all = append(all, named{s.Name, fmt.Sprintf("services[%d].name", i)})
	}
	for i, v := range c.inv.VMs {
		all = append(all, named{v.Name, fmt.Sprintf("vms[%d].name", i)})
	}
	byName := func(n named) (string, bool) { return strings.ToLower(n.name), n.name != "" }
	for n, prev := range repeats(all, byName) {
		c.report(n.path, "host name %q is already used by %s (line %d)", n.name, prev.path, c.pos.line(prev.path))
	}
}

func (c *checker) uniqueVMIDs() {
	var ids []VMID
	for _, v := range c.inv.VMIDs() {
		if c.skip[v.Path] {
			continue
		}
		if v.ID < minVMID || v.ID > maxVMID {
			c.report(v.Path, "%d is not a valid VM ID: Proxmox VM IDs run from %d to %d (IDs below %d are reserved)", v.ID, minVMID, maxVMID, minVMID)
			continue
		}
		ids = append(ids, v)
	}
	byID := func(v VMID) (int, bool) { return v.ID, true }
	for v, prev := range repeats(ids, byID) {
		c.report(v.Path, "VM ID %d is already used by %s (%s, line %d)", v.ID, prev.Name, prev.Path, c.pos.line(prev.Path))
	}
}

// memoryFits checks that the enabled VMs and the Talos nodes fit in the
// memory Proxmox leaves free.
func (c *checker) memoryFits() {
	hw := c.inv.Proxmox.Hardware
	availMiB := (hw.MemoryGiB - hw.ReservedMemoryGiB) * 1024
	if hw.MemoryGiB <= 0 || availMiB <= 0 {
		return
	}
	if need := c.inv.PlannedMemoryMiB(); need > availMiB {
		c.report("proxmox.hardware.memory_gib", "the Talos nodes and enabled VMs need %d MiB but the host has %d MiB for guests (%d GiB - %d GiB reserved); disable a VM or lower memory_mib",
			need, availMiB, hw.MemoryGiB, hw.ReservedMemoryGiB)
	}
}

// checkRelease checks a "vX.Y.Z" release and returns its X.Y, or nil when
// it is missing or malformed.
func (c *checker) checkRelease(path, v, example string) *Release {
	if v == "" || c.failed(path) {
		return nil
	}
	if m := releaseRe.FindStringSubmatch(v); m != nil {
		major, errMajor := strconv.Atoi(m[1])
		minor, errMinor := strconv.Atoi(m[2])
		if errMajor == nil && errMinor == nil {
			return &Release{major, minor}
		}
	}
	c.report(path, "%q is not %s", v, example)
	return nil
}

func (c *checker) checkSemver(path, v string) {
	if v != "" && !semverRe.MatchString(v) {
		c.report(path, "%q is not a semantic version such as 1.18.4 or v1.18.4", v)
	}
}

func (c *checker) checkLabel(path, s string) bool {
	if s == "" {
		return false
	}
	if !labelRe.MatchString(s) {
		c.report(path, "%q is not a valid name: use lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit%s", s, nonASCIINote(s))
		return false
	}
	return true
}

func (c *checker) checkUser(path, s string) bool {
	if s == "" {
		return false
	}
	if !userRe.MatchString(s) && s != "Administrator" {
		c.report(path, "%q is not a valid user name (lower-case letters, digits, '_' and '-', starting with a letter or '_')%s", s, nonASCIINote(s))
		return false
	}
	return true
}

func (c *checker) checkDomain(path, s string) {
	if s != "" && !isDomain(s) {
		c.report(path, "%q is not a DNS domain such as home-infra.net%s", s, nonASCIINote(s))
	}
}

func (c *checker) checkText(path, s string) {
	if strings.TrimSpace(s) == "" {
		c.report(path, "must not be empty")
	}
}

func (c *checker) checkPositive(path string, n int) {
	if n < 1 {
		c.report(path, "%d must be at least 1", n)
	}
}

// checkCores checks a vCPU count against the host's cores.
func (c *checker) checkCores(path string, n int) {
	host := c.inv.Proxmox.Hardware.Cores
	switch {
	case n < 1:
		c.report(path, "%d must be at least 1", n)
	case host > 0 && n > host:
		c.report(path, "%d cores is more than the host's %d", n, host)
	}
}

// isDomain reports whether s is a DNS name made of valid labels.
func isDomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if !labelRe.MatchString(l) {
			return false
		}
	}
	return true
}

// lastAddr is the highest address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := be32(a) | (1<<(32-p.Bits()) - 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
