package inventory

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the inventory as indented JSON with the same keys as the
// YAML file, for scripts (jq '.talos.nodes[0].ip').
func (inv *Inventory) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(inv); err != nil {
		return fmt.Errorf("encode inventory as JSON: %w", err)
	}
	return nil
}

// WriteTable writes a human summary of the inventory: the address plan
// sorted by address, the VM ID plan sorted by ID, the Talos nodes, the
// traditional VMs, the charts and the tools.
func (inv *Inventory) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	sections := []func(io.Writer){
		inv.writeNetwork, inv.writeAddresses, inv.writeProxmox, inv.writeVMIDs,
		inv.writeTalos, inv.writeVMs, inv.writeCharts, inv.writeUserAndTools,
	}
	for i, section := range sections {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		section(tw)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write inventory table: %w", err)
	}
	return nil
}

func (inv *Inventory) writeNetwork(w io.Writer) {
	n := inv.Network
	fmt.Fprintf(w, "Network %s, gateway %s, domain %s, DNS %s, NTP %s\n\n", n.CIDR, n.Gateway, n.Domain,
		joinStringers(n.DNSServers), strings.Join(n.NTPServers, " "))
	fmt.Fprintln(w, "RANGE\tFROM\tTO\tSIZE\tPURPOSE")
	for _, r := range n.Ranges.List() {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", r.Name, r.Start, r.End, r.Size(), r.Purpose)
	}
}

func (inv *Inventory) writeAddresses(w io.Writer) {
	addrs := inv.Addresses()
	slices.SortStableFunc(addrs, func(a, b Address) int { return a.IP.Compare(b.IP) })
	fmt.Fprintln(w, "ADDRESS\tNAME\tKIND\tRANGE\tSET BY")
	for _, a := range addrs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.IP, a.Name, a.Kind, a.Range, a.Path)
	}
}

func (inv *Inventory) writeProxmox(w io.Writer) {
	px, hw := inv.Proxmox, inv.Proxmox.Hardware
	fmt.Fprintf(w, "Proxmox node %s, bridge %s, storage import=%s iso=%s disks=%s\n", px.Node, px.Bridge,
		px.Storage.Import, px.Storage.ISO, px.Storage.Disks)
	fmt.Fprintf(w, "Hardware %s, %d cores, %d GiB (%d GiB reserved for Proxmox)\n", hw.CPU, hw.Cores, hw.MemoryGiB, hw.ReservedMemoryGiB)
	fmt.Fprintf(w, "Memory planned for Talos nodes and enabled VMs: %s of %d GiB\n",
		gib(inv.PlannedMemoryMiB()), hw.MemoryGiB-hw.ReservedMemoryGiB)
}

func (inv *Inventory) writeVMIDs(w io.Writer) {
	ids := inv.VMIDs()
	slices.SortStableFunc(ids, func(a, b VMID) int { return cmp.Compare(a.ID, b.ID) })
	fmt.Fprintln(w, "VM ID\tNAME\tKIND\tSET BY")
	for _, v := range ids {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", v.ID, v.Name, v.Kind, v.Path)
	}
}

func (inv *Inventory) writeTalos(w io.Writer) {
	t, k := inv.Talos, inv.Kubernetes
	fmt.Fprintf(w, "Talos %s, cluster %s, endpoint https://%s:6443, disk encryption %s\n", t.Version, t.ClusterName,
		t.Endpoint(), onOff(t.DiskEncryption))
	exts := slices.Clone(t.Extensions)
	if inv.GPUExtensionsNeeded() {
		exts = append(exts, t.GPUExtensions...)
	}
	fmt.Fprintf(w, "Extensions %s\n", strings.Join(exts, " "))
	fmt.Fprintf(w, "Kubernetes %s, pods %s, services %s\n\n", k.Version, k.PodCIDR, k.ServiceCIDR)
	fmt.Fprintln(w, "NODE\tROLE\tVM ID\tIP\tCORES\tMEMORY\tDISKS\tGPU")
	for _, n := range t.Nodes {
		disks := strconv.Itoa(n.OSDiskGiB) + " GiB"
		if n.DataDiskGiB > 0 {
			disks += fmt.Sprintf(" + %d GiB", n.DataDiskGiB)
		}
		gpu := "-"
		if n.GPU.Enabled {
			gpu = fmt.Sprintf("%s (%s)", n.GPU.Mapping, strings.Join(n.GPU.PCI, ", "))
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", n.Name, n.Role, n.VMID, n.IP, n.Cores, gib(n.MemoryMiB), disks, gpu)
	}
}

func (inv *Inventory) writeVMs(w io.Writer) {
	if len(inv.VMs) == 0 {
		fmt.Fprintln(w, "No traditional VMs")
		return
	}
	fmt.Fprintln(w, "VM\tVM ID\tIP\tIMAGE\tCORES\tMEMORY\tDISK\tENABLED")
	for _, v := range inv.VMs {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%d\t%s\t%d GiB\t%s\n", v.Name, v.VMID, v.IP, v.Image, v.Cores, gib(v.MemoryMiB), v.DiskGiB, yesNo(v.Enabled))
	}
}

func (inv *Inventory) writeCharts(w io.Writer) {
	if len(inv.Kubernetes.Charts) == 0 {
		fmt.Fprintln(w, "No Helm charts")
		return
	}
	fmt.Fprintln(w, "CHART\tVERSION\tNAMESPACE\tREPOSITORY")
	for _, name := range inv.ChartNames() {
		c := inv.Kubernetes.Charts[name]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name, c.Version, c.Namespace, c.Repository)
	}
}

func (inv *Inventory) writeUserAndTools(w io.Writer) {
	u := inv.User
	fmt.Fprintf(w, "User %s (%s), %s, %s, %d SSH key(s)\n\n", u.Name, u.Shell, u.Timezone, u.Locale, len(u.SSHPublicKeys))
	fmt.Fprintln(w, "TOOL\tVERSION")
	for _, name := range inv.ToolNames() {
		fmt.Fprintf(w, "%s\t%s\n", name, inv.Tools[name])
	}
}

// PlannedMemoryMiB is the memory of every Talos node and every enabled VM.
func (inv *Inventory) PlannedMemoryMiB() int {
	total := 0
	for _, n := range inv.Talos.Nodes {
		total += n.MemoryMiB
	}
	for _, v := range inv.VMs {
		if v.Enabled {
			total += v.MemoryMiB
		}
	}
	return total
}

func gib(mib int) string {
	if mib%1024 == 0 {
		return fmt.Sprintf("%d GiB", mib/1024)
	}
	return fmt.Sprintf("%.1f GiB", float64(mib)/1024)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func joinStringers[T fmt.Stringer](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return strings.Join(s, " ")
}
