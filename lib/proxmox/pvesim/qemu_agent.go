package pvesim

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// The QEMU guest agent (API2/Qemu/Agent.pm, QemuServer/Agent.pm): a
// simulated qemu-ga answers once the guest has booted (WithGuestBootDelay),
// and reports the network cloud-init configured from the VM's config.

// agentVersion is the qemu-ga version guest-info reports.
const agentVersion = "9.2.0"

// agentCommands are the commands guest-info lists (sorted; qemu-ga lists
// them in its registration order).
var agentCommands = []string{
	"guest-exec", "guest-exec-status", "guest-file-close", "guest-file-open", "guest-file-read",
	"guest-file-write", "guest-fsfreeze-freeze", "guest-fsfreeze-status", "guest-fsfreeze-thaw",
	"guest-fstrim", "guest-get-fsinfo", "guest-get-host-name", "guest-get-memory-block-info",
	"guest-get-osinfo", "guest-get-time", "guest-get-timezone", "guest-get-users", "guest-get-vcpus",
	"guest-info", "guest-network-get-interfaces", "guest-ping", "guest-set-user-password",
	"guest-shutdown", "guest-suspend-disk", "guest-suspend-hybrid", "guest-suspend-ram", "guest-sync",
	"guest-sync-delimited",
}

// agentVM is the checks every agent command runs (load_config, then
// assert_agent_available). Caller holds the lock.
func (w *world) agentVM(r *request) (*vm, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	if _, ok := v.conf.get("agent"); !ok {
		return nil, failed("No QEMU guest agent configured")
	}
	if !v.running() {
		return nil, failed("VM %d is not running", v.vmid)
	}
	if !v.agentEnabled() || !v.guestUp() {
		return nil, failed("QEMU guest agent is not running")
	}
	return v, nil
}

// agentPing answers POST .../agent/ping: guest-ping returns {}.
func agentPing(_ *Server, w *world, r *request) (any, error) {
	if _, err := w.agentVM(r); err != nil {
		return nil, err
	}
	return map[string]any{"result": map[string]any{}}, nil
}

// agentInfo answers GET .../agent/info: qemu-ga's version and commands.
func agentInfo(_ *Server, w *world, r *request) (any, error) {
	if _, err := w.agentVM(r); err != nil {
		return nil, err
	}
	cmds := make([]map[string]any, 0, len(agentCommands))
	for _, c := range agentCommands {
		// qemu-ga does not answer the commands that power the guest off.
		noAnswer := c == "guest-shutdown" || strings.HasPrefix(c, "guest-suspend-")
		cmds = append(cmds, map[string]any{"name": c, "enabled": true, "success-response": !noAnswer})
	}
	return map[string]any{"result": map[string]any{"version": agentVersion, "supported_commands": cmds}}, nil
}

// agentInterfaces answers GET .../agent/network-get-interfaces: loopback,
// then eth<N> for each netN with the addresses of ipconfigN.
func agentInterfaces(_ *Server, w *world, r *request) (any, error) {
	v, err := w.agentVM(r)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{guestInterface("lo", "00:00:00:00:00:00",
		guestAddr("127.0.0.1", 8), guestAddr("::1", 128))}
	for _, k := range netKeys(v.conf) {
		n, _ := strconv.Atoi(strings.TrimPrefix(k, "net"))
		mac := strings.ToLower(nicMAC(v.conf.vals[k]))
		var addrs []map[string]any
		if ipc, ok := v.conf.get(fmt.Sprintf("ipconfig%d", n)); ok {
			addrs = ipconfigAddrs(ipc, v.vmid, n, mac)
		}
		if ll, err := linkLocal(mac); err == nil {
			addrs = append(addrs, guestAddr(ll, 64))
		}
		out = append(out, guestInterface(fmt.Sprintf("eth%d", n), mac, addrs...))
	}
	return map[string]any{"result": out}, nil
}

// netKeys are the config's netN keys in index order.
func netKeys(c *config) []string {
	var keys []string
	for _, k := range c.keys {
		if rest, ok := strings.CutPrefix(k, "net"); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		x, _ := strconv.Atoi(a[3:])
		y, _ := strconv.Atoi(b[3:])
		return x - y
	})
	return keys
}

// nicMAC is the MAC of a netN value ("model=MAC,..." or macaddr=).
func nicMAC(val string) string {
	ps, err := pve.ParsePropertyString(val, "model")
	if err != nil {
		return ""
	}
	if mac := ps.Value("macaddr"); mac != "" {
		return mac
	}
	for _, m := range nicModels() {
		if mac, ok := ps.Get(m); ok {
			return mac
		}
	}
	return ""
}

// ipconfigAddrs are the addresses a guest has for an ipconfigN value:
// static addresses as given; a DHCP lease of 10.0.<N>.<vmid%250+2>/24;
// SLAAC (ip6=auto) or DHCPv6 an fd00::/64 address from the MAC.
func ipconfigAddrs(ipc string, vmid, n int, mac string) []map[string]any {
	ps, err := pve.ParsePropertyString(ipc, "ip")
	if err != nil {
		return nil
	}
	var out []map[string]any
	switch ip := ps.Value("ip"); ip {
	case "":
	case "dhcp":
		out = append(out, guestAddr(fmt.Sprintf("10.0.%d.%d", n, vmid%250+2), 24))
	default:
		if addr, cidr, err := net.ParseCIDR(ip); err == nil {
			ones, _ := cidr.Mask.Size()
			out = append(out, guestAddr(addr.String(), ones))
		}
	}
	switch ip6 := ps.Value("ip6"); ip6 {
	case "":
	case "auto", "dhcp":
		if iid, err := eui64(mac); err == nil {
			out = append(out, guestAddr("fd00::"+iid, 64))
		}
	default:
		if addr, cidr, err := net.ParseCIDR(ip6); err == nil {
			ones, _ := cidr.Mask.Size()
			out = append(out, guestAddr(addr.String(), ones))
		}
	}
	return out
}

// linkLocal is the fe80::/64 address the kernel gives an interface.
func linkLocal(mac string) (string, error) {
	iid, err := eui64(mac)
	if err != nil {
		return "", err
	}
	return net.ParseIP("fe80::" + iid).String(), nil
}

// eui64 is the modified EUI-64 interface identifier of a MAC, as the four
// low groups of an IPv6 address.
func eui64(mac string) (string, error) {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return "", errors.New("not a 48-bit MAC")
	}
	b := []byte{hw[0] ^ 0x02, hw[1], hw[2], 0xff, 0xfe, hw[3], hw[4], hw[5]}
	return fmt.Sprintf("%x:%x:%x:%x", uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]),
		uint16(b[4])<<8|uint16(b[5]), uint16(b[6])<<8|uint16(b[7])), nil
}

// guestInterface is one interface as guest-network-get-interfaces shows it.
func guestInterface(name, mac string, addrs ...map[string]any) map[string]any {
	if addrs == nil {
		addrs = []map[string]any{}
	}
	return map[string]any{"name": name, "hardware-address": mac, "ip-addresses": addrs,
		"statistics": map[string]any{"rx-bytes": 0, "rx-dropped": 0, "rx-errs": 0, "rx-packets": 0,
			"tx-bytes": 0, "tx-dropped": 0, "tx-errs": 0, "tx-packets": 0}}
}

// guestAddr is one ip-addresses entry.
func guestAddr(ip string, prefix int) map[string]any {
	typ := "ipv4"
	if strings.Contains(ip, ":") {
		typ = "ipv6"
	}
	return map[string]any{"ip-address-type": typ, "ip-address": ip, "prefix": prefix}
}
