package pvesim

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// Cloud-init as qemu-server does it (QemuServer/Cloudinit.pm and the
// cloudinit methods of API2/Qemu.pm): the generated user-data, network
// config and meta-data, and the record of what changed since the
// cloud-init image was last generated.

// cloudinitOptions are API2/Qemu.pm's $cloudinitoptions, which GET
// cloudinit lists.
var cloudinitOptions = []string{"cicustom", "cipassword", "citype", "ciupgrade", "ciuser", "nameserver", "searchdomain", "sshkeys"}

// masked is how PVE shows a cloud-init password.
const masked = "**********"

// isCloudinitPending reports whether a change of k is recorded against
// the cloud-init image (QemuServer.pm cloudinit_pending_properties: the
// cloud-init options, name and the NICs).
func isCloudinitPending(k string) bool {
	if slices.Contains(cloudinitOptions, k) || k == "name" {
		return true
	}
	for _, p := range []string{"ipconfig", "net"} {
		if rest, ok := strings.CutPrefix(k, p); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
}

// cloudinitRecord is the config's cloudinit section: the values the
// current image was generated from, for the options changed since, and
// the options added since.
type cloudinitRecord struct {
	old   map[string]string
	added map[string]bool
}

// recordCloudinit is vmconfig_hotplug_pending's $cloudinit_record_changed:
// a change of k from old to new (nil: unset) on the running VM.
func (v *vm) recordCloudinit(k string, old, new *string) {
	if !isCloudinitPending(k) {
		return
	}
	if v.ci.old == nil {
		v.ci = cloudinitRecord{old: map[string]string{}, added: map[string]bool{}}
	}
	recorded, isRecorded := v.ci.old[k]
	switch {
	case new != nil && isRecorded:
		if *new == recorded { // back to what the image has
			delete(v.ci.old, k)
			delete(v.ci.added, k)
		}
	case new != nil && v.ci.added[k]:
	case new != nil && old != nil:
		v.ci.old[k] = *old
	case new != nil:
		v.ci.added[k] = true
	case old == nil, isRecorded:
	case v.ci.added[k]:
		delete(v.ci.added, k)
	default:
		v.ci.old[k] = *old
	}
}

// regenerateCloudinit is apply_cloudinit_config: the image is generated
// from the current config and the record is cleared.
func (v *vm) regenerateCloudinit() { v.ci = cloudinitRecord{} }

// hasCloudinitDrive reports whether a drive holds the VM's cloud-init
// volume.
func (v *vm) hasCloudinitDrive() bool {
	for _, k := range v.conf.disks() {
		if strings.Contains(driveFile(v.conf.vals[k]), fmt.Sprintf("vm-%d-cloudinit", v.vmid)) {
			return true
		}
	}
	return false
}

// cloudinitPending answers GET .../cloudinit (cloudinit_pending).
func cloudinitPending(_ *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	value := func(k string) string {
		if k == "cipassword" {
			return masked
		}
		return v.conf.vals[k]
	}
	out := []map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(v.ci.added)) {
		out = append(out, map[string]any{"key": k, "pending": value(k)})
	}
	for _, k := range cloudinitOptions {
		val, ok := v.conf.get(k)
		if !ok || val == "" || val == "0" || v.ci.added[k] {
			continue
		}
		item := map[string]any{"key": k, "value": value(k)}
		if old, ok := v.ci.old[k]; ok && old != "" && old != "0" {
			if k == "cipassword" {
				old = masked
			}
			item["value"], item["pending"] = old, value(k)
		}
		out = append(out, item)
	}
	for _, k := range slices.Sorted(maps.Keys(v.ci.old)) {
		if val, ok := v.conf.get(k); !ok || val == "" || val == "0" {
			out = append(out, map[string]any{"key": k, "delete": 1})
		}
	}
	return out, nil
}

// cloudinitUpdate answers PUT .../cloudinit (cloudinit_update): the lock
// is checked, then a VM with a cloud-init drive gets a new image.
func cloudinitUpdate(_ *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	if v.lock != "" {
		return nil, failed("VM is locked (%s)", v.lock)
	}
	if v.hasCloudinitDrive() {
		v.regenerateCloudinit()
	}
	return nil, nil
}

// cloudinitDump answers GET .../cloudinit/dump (dump_cloudinit_config):
// the generated config of the current values; cicustom snippets are not
// part of it. The password is masked for a caller without
// VM.Config.Cloudinit.
func cloudinitDump(_ *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	c := v.conf
	nocloud := cloudinitFormat(c) == "nocloud"
	network := func() string {
		if nocloud {
			return w.nocloudNetwork(c)
		}
		return w.configdrive2Network(c)
	}
	switch r.param("type") {
	case "user":
		mask := !w.can(r.who, fmt.Sprintf("/vms/%d", v.vmid), false, "VM.Config.Cloudinit")
		return cloudinitUserdata(c, v.vmid, mask), nil
	case "network":
		return network(), nil
	}
	sum := sha1.Sum([]byte(cloudinitUserdata(c, v.vmid, false) + network()))
	id := hex.EncodeToString(sum[:])
	if nocloud {
		return "instance-id: " + id + "\n", nil
	}
	return "{\n     \"uuid\": \"" + id + "\",\n     \"network_config\": { \"content_path\": \"/content/0000\" }\n}\n", nil
}

// cloudinitFormat is get_cloudinit_format: citype, else configdrive2 for
// Windows guests, else nocloud.
func cloudinitFormat(c *config) string {
	if t, ok := c.get("citype"); ok {
		return t
	}
	if isWindows(c) {
		return "configdrive2"
	}
	return "nocloud"
}

// isWindows reports whether ostype names a Windows version (w2k, wxp,
// wvista, win7...).
func isWindows(c *config) bool {
	os, _ := c.get("ostype")
	return strings.HasPrefix(os, "w")
}

// cloudinitUserdata is Cloudinit.pm cloudinit_userdata.
func cloudinitUserdata(c *config, vmid int, mask bool) string {
	hostname, ok := c.get("name")
	if !ok {
		hostname = fmt.Sprintf("VM%d", vmid)
	}
	fqdn := hostname
	if strings.Contains(hostname, ".") {
		hostname = strings.SplitN(hostname, ".", 2)[0]
	} else if search, _ := c.get("searchdomain"); search != "" {
		fqdn = hostname + "." + search
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#cloud-config\nhostname: %s\nmanage_etc_hosts: true\nfqdn: %s\n", hostname, fqdn)
	user, hasUser := c.get("ciuser")
	if hasUser {
		fmt.Fprintf(&b, "user: %s\n", user)
		if user == "root" {
			b.WriteString("disable_root: False\n")
		}
	}
	if pw, ok := c.get("cipassword"); ok {
		if mask {
			pw = masked
		}
		fmt.Fprintf(&b, "password: %s\n", pw)
	}
	if keys, ok := c.get("sshkeys"); ok {
		if unescaped, err := url.PathUnescape(keys); err == nil {
			keys = unescaped
		}
		b.WriteString("ssh_authorized_keys:\n")
		for _, k := range strings.Split(keys, "\n") {
			if strings.TrimSpace(k) != "" {
				fmt.Fprintf(&b, "  - %s\n", strings.TrimRight(k, "\r"))
			}
		}
	}
	b.WriteString("chpasswd:\n  expire: False\n")
	if !hasUser || user != "root" {
		b.WriteString("users:\n  - default\n")
	}
	if up, ok := c.get("ciupgrade"); !ok || up != "0" {
		b.WriteString("package_upgrade: true\n")
	}
	return b.String()
}

// dnsConf is get_dns_conf: the config's searchdomain and nameserver, each
// else the node's resolv.conf.
func (w *world) dnsConf(c *config) (search, servers []string) {
	search = w.searchDomains
	if s, ok := c.get("searchdomain"); ok {
		search = strings.Fields(s)
	}
	servers = w.dnsServers
	if s, ok := c.get("nameserver"); ok {
		servers = strings.Fields(s)
	}
	return search, servers
}

// ciInterfaces are the NICs with an ipconfig, in the order PVE sorts their
// keys (as strings: net10 before net2).
func ciInterfaces(c *config) []string {
	var out []string
	for _, k := range netKeys(c) {
		if ipc, _ := c.get("ipconfig" + k[3:]); ipc != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// nocloudNetwork is Cloudinit.pm nocloud_network (network config v1).
func (w *world) nocloudNetwork(c *config) string {
	var b strings.Builder
	b.WriteString("version: 1\nconfig:\n")
	for _, k := range ciInterfaces(c) {
		id := k[3:]
		ipc, _ := pve.ParsePropertyString(c.vals["ipconfig"+id], "ip")
		fmt.Fprintf(&b, "    - type: physical\n      name: eth%s\n      mac_address: '%s'\n      subnets:\n", id, strings.ToLower(nicMAC(c.vals[k])))
		if ipc == nil {
			continue
		}
		if ip, ok := ipc.Get("ip"); ok {
			if ip == "dhcp" {
				b.WriteString("      - type: dhcp4\n")
			} else {
				addr, mask := splitIPv4(ip)
				fmt.Fprintf(&b, "      - type: static\n        address: '%s'\n        netmask: '%s'\n", addr, mask)
				if gw, ok := ipc.Get("gw"); ok {
					fmt.Fprintf(&b, "        gateway: '%s'\n", gw)
				}
			}
		}
		if ip, ok := ipc.Get("ip6"); ok {
			switch ip {
			case "dhcp":
				b.WriteString("      - type: dhcp6\n")
			case "auto":
				b.WriteString("      - type: ipv6_slaac\n")
			default:
				fmt.Fprintf(&b, "      - type: static6\n        address: '%s'\n", ip)
				if gw, ok := ipc.Get("gw6"); ok {
					fmt.Fprintf(&b, "        gateway: '%s'\n", gw)
				}
			}
		}
	}
	search, servers := w.dnsConf(c)
	b.WriteString("    - type: nameserver\n")
	if len(servers) > 0 {
		b.WriteString("      address:\n")
		for _, s := range servers {
			fmt.Fprintf(&b, "      - '%s'\n", s)
		}
	}
	if len(search) > 0 {
		b.WriteString("      search:\n")
		for _, s := range search {
			fmt.Fprintf(&b, "      - '%s'\n", s)
		}
	}
	return b.String()
}

// configdrive2Network is Cloudinit.pm configdrive2_network (ENI).
func (w *world) configdrive2Network(c *config) string {
	var b strings.Builder
	b.WriteString("auto lo\niface lo inet loopback\n\n")
	search, servers := w.dnsConf(c)
	if len(servers) > 0 {
		fmt.Fprintf(&b, "        dns_nameservers %s\n", strings.Join(servers, " "))
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "        dns_search %s\n", strings.Join(search, " "))
	}
	for _, k := range ciInterfaces(c) {
		id := "eth" + k[3:]
		ipc, _ := pve.ParsePropertyString(c.vals["ipconfig"+k[3:]], "ip")
		fmt.Fprintf(&b, "auto %s\n", id)
		if ipc == nil {
			continue
		}
		if ip := ipc.Value("ip"); ip == "dhcp" {
			fmt.Fprintf(&b, "iface %s inet dhcp\n", id)
		} else if ip != "" {
			addr, mask := splitIPv4(ip)
			fmt.Fprintf(&b, "iface %s inet static\n        address %s\n        netmask %s\n", id, addr, mask)
			if gw := ipc.Value("gw"); gw != "" {
				fmt.Fprintf(&b, "        gateway %s\n", gw)
			}
		}
		if ip := ipc.Value("ip6"); ip == "auto" || ip == "dhcp" {
			fmt.Fprintf(&b, "iface %s inet6 %s\n", id, ip)
		} else if ip != "" {
			addr, prefix, _ := strings.Cut(ip, "/")
			fmt.Fprintf(&b, "iface %s inet6 static\n        address %s\n        netmask %s\n", id, addr, prefix)
			if gw := ipc.Value("gw6"); gw != "" {
				fmt.Fprintf(&b, "        gateway %s\n", gw)
			}
		}
	}
	return b.String()
}

// splitIPv4 is split_ip4: an IPv4 CIDR as address and dotted netmask.
func splitIPv4(cidr string) (string, string) {
	addr, bits, _ := strings.Cut(cidr, "/")
	n, err := strconv.Atoi(bits)
	if err != nil || n < 0 || n > 32 {
		return addr, ""
	}
	return addr, net.IP(net.CIDRMask(n, 32)).String()
}

// hashedPassword matches a cipassword that is already a crypt hash
// (update_vm_api's /^\$(?:[156]|2[ay])(\$.+){2}/).
var hashedPassword = regexp.MustCompile(`^\$(?:[156]|2[ay])(\$.+){2}`)

// hashCloudinitPassword is what update_vm_api stores for cipassword: a
// Linux guest's password hashed with encrypt_pw (SHA-256 crypt, "$5$"),
// unless it is a hash already; a Windows guest's as given.
func hashCloudinitPassword(c *config, pw string) string {
	if isWindows(c) || hashedPassword.MatchString(pw) {
		return pw
	}
	salt := make([]byte, 6)
	_, _ = rand.Read(salt)
	return sha256Crypt(pw, strings.ReplaceAll(encodeBase64(salt), "+", "X"))
}

// encodeBase64 is standard base64 without padding, for an 8-character salt.
func encodeBase64(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out strings.Builder
	for i := 0; i+2 < len(b); i += 3 {
		n := uint(b[i])<<16 | uint(b[i+1])<<8 | uint(b[i+2])
		for shift := 18; shift >= 0; shift -= 6 {
			out.WriteByte(alphabet[n>>uint(shift)&0x3f])
		}
	}
	return out.String()
}

// sha256Crypt is crypt(3) with "$5$salt$" and the default 5000 rounds
// (Ulrich Drepper's SHA-crypt).
func sha256Crypt(password, salt string) string {
	pw, s := []byte(password), []byte(salt)
	if len(s) > 16 {
		s = s[:16]
	}
	sum := func(parts ...[]byte) []byte {
		h := sha256.New()
		for _, p := range parts {
			h.Write(p)
		}
		return h.Sum(nil)
	}
	b := sum(pw, s, pw)
	a := sha256.New()
	a.Write(pw)
	a.Write(s)
	for i := len(pw); i > 0; i -= 32 {
		a.Write(b[:min(i, 32)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write(b)
		} else {
			a.Write(pw)
		}
	}
	c := a.Sum(nil)
	dp := sha256.New()
	for range pw {
		dp.Write(pw)
	}
	p := repeatTo(dp.Sum(nil), len(pw))
	ds := sha256.New()
	for i := 0; i < 16+int(c[0]); i++ {
		ds.Write(s)
	}
	sp := repeatTo(ds.Sum(nil), len(s))
	for i := 0; i < 5000; i++ {
		h := sha256.New()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sp)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(nil)
	}
	const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var out strings.Builder
	enc := func(b2, b1, b0 byte, n int) {
		v := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for ; n > 0; n-- {
			out.WriteByte(itoa64[v&0x3f])
			v >>= 6
		}
	}
	for i := 0; i < 10; i++ {
		x, y, z := (i*21)%30, (i*21+10)%30, (i*21+20)%30
		enc(c[x], c[y], c[z], 4)
	}
	enc(0, c[31], c[30], 3)
	return "$5$" + string(s) + "$" + out.String()
}

// repeatTo repeats b to n bytes.
func repeatTo(b []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, b[:min(len(b), n-len(out))]...)
	}
	return out
}
