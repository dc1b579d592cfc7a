package pvesim

import "fmt"

// Guest is what runs inside a VM as a test sees it from outside the API:
// whether its QEMU process runs, whether its guest OS has booted
// (WithGuestBootDelay), and the network configuration of the cloud-init
// image it booted with. It is read without a request, so it leaves no
// trace in Requests().
type Guest struct {
	// Running says the VM's QEMU process runs.
	Running bool
	// Booted says the guest OS is up (Running and the boot delay passed).
	Booted bool
	// IPConfig holds ipconfigN of the cloud-init image the guest sees,
	// by N: the values the image was generated from at the last start, not
	// changes made since (those wait for the next start, as on a host).
	// Empty when the VM has no cloud-init drive.
	IPConfig map[int]string
}

// Guest returns the guest of VM vmid; false when no such VM exists.
// Harnesses that couple another simulator to the VMs (a Talos node that is
// up only while its VM runs, at the address cloud-init gives it) poll it.
func (s *Server) Guest(vmid int) (Guest, bool) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.vms[vmid]
	if !ok {
		return Guest{}, false
	}
	g := Guest{Running: v.running(), Booted: v.guestUp(), IPConfig: map[int]string{}}
	if !v.hasCloudinitDrive() {
		return g, true
	}
	for n := range maxNets {
		k := fmt.Sprintf("ipconfig%d", n)
		if v.ci.added[k] {
			continue // set after the image was generated
		}
		val, ok := v.ci.old[k]
		if !ok {
			val, ok = v.conf.get(k)
		}
		if ok {
			g.IPConfig[n] = val
		}
	}
	return g, true
}

// maxNets is qemu-server's MAX_NETS: net0 … net31, ipconfig0 … ipconfig31.
const maxNets = 32
