package schema

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The regular expressions of pve-common's ParseUtils.pm ($IPV4RE, $IPV6RE,
// $EMAIL_RE), Auth/Plugin.pm and JSONSchema.pm, in RE2 syntax.
const (
	ipv4Octet = `(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])`
	ipv4RE    = `(?:(?:` + ipv4Octet + `\.){3}` + ipv4Octet + `)`
	ipv6H16   = `(?:[0-9a-fA-F]{1,4})`
	ipv6LS32  = `(?:(?:` + ipv4RE + `|` + ipv6H16 + `:` + ipv6H16 + `))`
	ipv6RE    = `(?:` +
		`(?:(?:(?:` + ipv6H16 + `:){6})` + ipv6LS32 + `)|` +
		`(?:(?:::(?:` + ipv6H16 + `:){5})` + ipv6LS32 + `)|` +
		`(?:(?:(?:` + ipv6H16 + `)?::(?:` + ipv6H16 + `:){4})` + ipv6LS32 + `)|` +
		`(?:(?:(?:(?:` + ipv6H16 + `:){0,1}` + ipv6H16 + `)?::(?:` + ipv6H16 + `:){3})` + ipv6LS32 + `)|` +
		`(?:(?:(?:(?:` + ipv6H16 + `:){0,2}` + ipv6H16 + `)?::(?:` + ipv6H16 + `:){2})` + ipv6LS32 + `)|` +
		`(?:(?:(?:(?:` + ipv6H16 + `:){0,3}` + ipv6H16 + `)?::(?:` + ipv6H16 + `:){1})` + ipv6LS32 + `)|` +
		`(?:(?:(?:(?:` + ipv6H16 + `:){0,4}` + ipv6H16 + `)?::)` + ipv6LS32 + `)|` +
		`(?:(?:(?:(?:` + ipv6H16 + `:){0,5}` + ipv6H16 + `)?::)` + ipv6H16 + `)|` +
		`(?:(?:(?:(?:` + ipv6H16 + `:){0,6}` + ipv6H16 + `)?::)))`
	emailUserRE = `[\w+\-~]+(\.[\w+\-~]+)*`
	realmRE     = `[A-Za-z][A-Za-z0-9.\-_]+`
	userRE      = `[^\s:/]+`
)

var (
	ipv4Re        = regexp.MustCompile(`^` + ipv4RE + `$`)
	ipv6Re        = regexp.MustCompile(`^` + ipv6RE + `$`)
	cidrv4Re      = regexp.MustCompile(`^` + ipv4RE + `/(\d+)$`)
	cidrv6Re      = regexp.MustCompile(`^` + ipv6RE + `/(\d+)$`)
	emailRe       = regexp.MustCompile(`^` + emailUserRE + `@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*$`)
	realmRe       = regexp.MustCompile(`^` + realmRE + `$`)
	userIDRe      = regexp.MustCompile(`^` + userRE + `@` + realmRE + `$`)
	tokenIDRe     = regexp.MustCompile(`^` + userRE + `@` + realmRE + `!` + realmRE + `$`)
	nodeRe        = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$`)
	configIDRe    = regexp.MustCompile(`^(?i:[a-z][a-z0-9_-]+)$`)
	idRe          = regexp.MustCompile(`^(?i:[a-z][a-z0-9\-_.]*[a-z0-9])$`)
	volumeIDRe    = regexp.MustCompile(`^(?i:[a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$`)
	diskSizeRe    = regexp.MustCompile(`^(\d+(\.\d+)?)([KMGT](?:iB)?)?$`)
	dnsNameRe     = regexp.MustCompile(`^(([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$`)
	bridgeRe      = regexp.MustCompile(`^[-_.\w\d]+$`)
	macRe         = regexp.MustCompile(`^(?i:[a-f0-9][02468ace](?::[a-f0-9]{2}){5})$`)
	poolRe        = regexp.MustCompile(`^[A-Za-z0-9.\-_]+(?:/[A-Za-z0-9.\-_]+){0,2}$`)
	tagRe         = regexp.MustCompile(`^(?i:[a-z0-9_][a-z0-9_\-+.]*)$`)
	urlEncRe      = regexp.MustCompile(`^[-%a-zA-Z0-9_.!~*'()]*$`)
	startupRe     = regexp.MustCompile(`^(?:(?:order=)?\d+|up=\d+|down=\d+)$`)
	cpusetPartRe  = regexp.MustCompile(`^\s*(\d+)(?:-(\d+))?\s*$`)
	physBitsRe    = regexp.MustCompile(`^(host|\d{1,2})$`)
	taskStatusRe  = regexp.MustCompile(`^(?i:ok|error|warning|unknown)$`)
	storagePathRe = regexp.MustCompile(`^/[^;()]+`)
	nonSpaceRe    = regexp.MustCompile(`^\S+$`)
	dirOverrideRe = regexp.MustCompile(`^([a-z]+)=([^.]*(?:\.?[^.]+)+)$`)
	idPairRe      = regexp.MustCompile(`^([^:]+):([^:]+)$`)
	hotplugRe     = regexp.MustCompile(`^(network|disk|cpu|memory|usb|cloudinit)$`)
	portalRes     = []*regexp.Regexp{
		regexp.MustCompile(`^(` + ipv4RE + `|[[:alnum:]\-.]+)(?::(\d+))?$`),
		regexp.MustCompile(`^\[(` + ipv6RE + `|` + ipv4RE + `|[[:alnum:]\-.]+)\](?::(\d+))?$`),
		regexp.MustCompile(`^(` + ipv6RE + `)(?:\.(\d+))?$`),
	}
)

// formatCheck verifies one value of a format PVE registers with a verifier
// function and returns the verifier's message (without its newline).
type formatCheck func(string) error

// failIf returns msg as an error when bad is true.
func failIf(bad bool, msg string, args ...any) error {
	if bad {
		return fmt.Errorf(msg, args...)
	}
	return nil
}

// verifiers maps every format PVE registers with a verifier function
// (register_format(name, \&sub)) that the simulator's endpoints reference,
// and a few common ones besides, to its check. Each entry names the Perl
// function it mirrors. It is read only.
var verifiers = map[string]formatCheck{
	// pve-common src/PVE/JSONSchema.pm
	"string": func(string) error { return nil },
	"urlencoded": func(s string) error { // pve_verify_urlencoded
		return failIf(!urlEncRe.MatchString(s), "invalid urlencoded string: %s", s)
	},
	"pve-configid": checkConfigID, // pve_verify_configid
	"pve-storage-id": func(s string) error { // parse_storage_id
		return checkID(s, "storage")
	},
	"pve-bridge-id": func(s string) error { // parse_bridge_id
		return failIf(!bridgeRe.MatchString(s), "invalid bridge ID '%s'", s)
	},
	"pve-vmid": func(s string) error { // pve_verify_vmid
		return failIf(!vmidRe.MatchString(s), "value does not look like a valid VM ID")
	},
	"pve-node": func(s string) error { // pve_verify_node_name
		return failIf(!nodeRe.MatchString(s), "value does not look like a valid node name")
	},
	"storage-pair": checkStoragePair, // verify_storagepair
	"mac-addr": func(s string) error { // pve_verify_mac_addr
		return failIf(!macRe.MatchString(s), "value does not look like a valid unicast MAC address")
	},
	"ipv4": func(s string) error { // pve_verify_ipv4
		return failIf(!ipv4Re.MatchString(s), "value does not look like a valid IPv4 address")
	},
	"ipv6": func(s string) error { // pve_verify_ipv6
		return failIf(!ipv6Re.MatchString(s), "value does not look like a valid IPv6 address")
	},
	"ip": func(s string) error { // pve_verify_ip
		return failIf(!isIP(s), "value does not look like a valid IP address")
	},
	"CIDRv4": func(s string) error { // pve_verify_cidrv4
		return failIf(!isCIDR(cidrv4Re, s, 32), "value does not look like a valid IPv4 CIDR network")
	},
	"CIDRv6": func(s string) error { // pve_verify_cidrv6
		return failIf(!isCIDR(cidrv6Re, s, 128), "value does not look like a valid IPv6 CIDR network")
	},
	"CIDR": func(s string) error { // pve_verify_cidr
		return failIf(!isCIDR(cidrv4Re, s, 32) && !isCIDR(cidrv6Re, s, 128), "value does not look like a valid CIDR network")
	},
	"pve-ipv4-config": func(s string) error { // pve_verify_ipv4_config
		ok := s == "dhcp" || s == "manual" || isCIDR(cidrv4Re, s, 32)
		return failIf(!ok, "value does not look like a valid ipv4 network configuration")
	},
	"pve-ipv6-config": func(s string) error { // pve_verify_ipv6_config
		ok := s == "auto" || s == "dhcp" || s == "manual" || isCIDR(cidrv6Re, s, 128)
		return failIf(!ok, "value does not look like a valid ipv6 network configuration")
	},
	"email": func(s string) error { // pve_verify_email
		return failIf(!emailRe.MatchString(s), "value does not look like a valid email address")
	},
	"dns-name": func(s string) error { // pve_verify_dns_name
		return failIf(!dnsNameRe.MatchString(s), "value does not look like a valid DNS name")
	},
	"address": func(s string) error { // pve_verify_address
		return failIf(!isIP(s) && !dnsNameRe.MatchString(s), "value does not look like a valid address: %s", s)
	},
	"disk-size": func(s string) error { // pve_verify_disk_size (parse_size)
		return failIf(!diskSizeRe.MatchString(s), "value does not look like a valid disk size: %s", s)
	},
	"pve-startup-order": checkStartupOrder, // pve_verify_startup_order
	"pve-tag": func(s string) error { // pve_verify_tag
		return failIf(!tagRe.MatchString(s), "invalid characters in tag")
	},
	"pve-task-status-type": func(s string) error { // verify_task_status_type
		return failIf(!taskStatusRe.MatchString(s), "invalid status '%s'", s)
	},

	// pve-access-control src/PVE/AccessControl.pm, src/PVE/Auth/Plugin.pm
	"pve-realm": func(s string) error { // pve_verify_realm
		return failIf(!realmRe.MatchString(s), "value does not look like a valid realm")
	},
	"pve-userid": checkUserID, // verify_username
	"pve-tokenid": func(s string) error { // pve_verify_tokenid
		return failIf(!tokenIDRe.MatchString(s), "value '%s' does not look like a valid token ID", s)
	},
	"pve-poolid": checkPoolID, // verify_poolname
	"pve-priv": func(s string) error { // verify_privname
		return failIf(!isPrivilege(s), "invalid privilege '%s'", s)
	},

	// pve-storage src/PVE/Storage/Plugin.pm
	"pve-storage-path": func(s string) error { // verify_path
		return failIf(!storagePathRe.MatchString(s), "value does not look like a valid absolute path")
	},
	"pve-storage-server": func(s string) error { // verify_server
		return failIf(!isIP(s) && !dnsNameRe.MatchString(s), "value does not look like a valid server name or IP address")
	},
	"pve-storage-portal-dns": func(s string) error { // verify_portal_dns (PVE::Tools::parse_host_and_port)
		for _, re := range portalRes {
			if re.MatchString(s) {
				return nil
			}
		}
		return errors.New("value does not look like a valid portal address")
	},
	"pve-storage-content": func(s string) error { // verify_content
		return failIf(!isContentType(s), "invalid content type '%s'", s)
	},
	"pve-storage-options": func(s string) error { // verify_options
		return failIf(!nonSpaceRe.MatchString(s), "invalid options '%s'", s)
	},
	"pve-volume-id":    checkVolumeID, // parse_volume_id
	"pve-dir-override": checkDirOverride,
	"pve-volume-id-or-absolute-path": func(s string) error { // qemu-server verify_volume_id_or_absolute_path
		if strings.HasPrefix(s, "/") {
			return nil
		}
		return checkVolumeID(s)
	},

	// qemu-server src/PVE/QemuServer.pm, QemuServer/Drive.pm, QemuServer/CPUConfig.pm
	"pve-volume-id-or-qm-path": func(s string) error { // verify_volume_id_or_qm_path
		if s == "none" || s == "cdrom" || strings.HasPrefix(s, "/") {
			return nil
		}
		return checkVolumeID(s)
	},
	"pve-cpuset": checkCPUSet, // pve_verify_cpuset (PVE::CpuSet::parse_cpuset)
	"pve-hotplug-features": func(s string) error { // pve_verify_hotplug_features
		if s == "0" || s == "1" {
			return nil
		}
		for _, f := range splitList(s) {
			if !hotplugRe.MatchString(f) {
				return errors.New("unable to parse hotplug option")
			}
		}
		return nil
	},
	"pve-qm-bootdev": func(s string) error { // verify_bootdev
		return failIf(!isBootDevice(s), "invalid boot device '%s'", s)
	},
	"pve-qm-bootdisk": func(s string) error { // Drive.pm verify_bootdisk
		return failIf(!isDriveName(s), "invalid boot disk '%s'", s)
	},
	"pve-phys-bits": func(s string) error { // CPUConfig.pm parse_phys_bits
		bad := !physBitsRe.MatchString(s)
		if n, err := strconv.Atoi(s); err == nil && (n < 8 || n > 64) {
			bad = true
		}
		return failIf(bad, "value must be an integer between 8 and 64 or 'host'")
	},
}

// formatNameRe splits a format name as JSONSchema.pm's check_format does:
// "pve-configid-list" is the list form of "pve-configid".
var formatNameRe = regexp.MustCompile(`^(.*?)(?:-(list|opt))?$`)

// checkFormat checks a value against a format PVE registers with a verifier
// function, as JSONSchema.pm's check_format does: "<name>-list" checks every
// member of a list (split at ',', ';' and white space, an empty list allowed),
// "<name>-opt" checks a value only when it is true to Perl. A format nobody
// registered is PVE's "undefined format" error. Property-string formats
// registered by name are resolved when the schema loads (see namedFormat).
func checkFormat(name, s string) error {
	m := formatNameRe.FindStringSubmatch(name)
	base, kind := m[1], m[2]
	check, ok := verifiers[base]
	if !ok {
		return fmt.Errorf("undefined format '%s'", name)
	}
	switch kind {
	case "list":
		for _, v := range splitList(s) {
			if err := check(v); err != nil {
				return err
			}
		}
		return nil
	case "opt":
		if s == "" || s == "0" {
			return nil
		}
	}
	return check(s)
}

// hasChecker reports whether a format name is checked: by a verifier (also
// in its -list and -opt forms) or as a named property-string format.
func hasChecker(name string) bool {
	if _, ok := namedFormatJSON(name); ok || name == ideFormat {
		return true
	}
	_, ok := verifiers[formatNameRe.FindStringSubmatch(name)[1]]
	return ok
}

// checkConfigID is JSONSchema.pm's pve_verify_configid.
func checkConfigID(s string) error {
	return failIf(!configIDRe.MatchString(s), "invalid configuration ID '%s'", s)
}

// checkID is JSONSchema.pm's parse_id.
func checkID(s, kind string) error {
	if len(s) < 2 {
		return fmt.Errorf("%s ID '%s' cannot be shorter than 2 characters", kind, s)
	}
	return failIf(!idRe.MatchString(s), "%s ID '%s' contains illegal characters", kind, s)
}

// checkVolumeID is pve-storage Plugin.pm's parse_volume_id.
func checkVolumeID(s string) error {
	return failIf(!volumeIDRe.MatchString(s), "unable to parse volume ID '%s'", s)
}

// checkStoragePair is JSONSchema.pm's verify_storagepair: parse_idmap on one
// list entry ('1', 'source:target' or a default target), whose message gains
// a newline at each of its two re-throws.
func checkStoragePair(s string) error {
	var err error
	if s == "1" {
		return nil
	}
	if m := idPairRe.FindStringSubmatch(s); m != nil {
		if err = checkID(m[1], "storage"); err == nil {
			err = checkID(m[2], "storage")
		}
	} else {
		err = checkID(s, "storage")
	}
	if err != nil {
		//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
		return fmt.Errorf("entry '%s' contains invalid ID - %s\n\n", s, err)
	}
	return nil
}

// checkStartupOrder is JSONSchema.pm's pve_verify_startup_order
// (pve_parse_startup_order): a false value ("" or "0") does not parse.
func checkStartupOrder(s string) error {
	bad := s == "" || s == "0"
	for _, p := range strings.Split(s, ",") {
		if strings.TrimSpace(p) != "" && !startupRe.MatchString(p) {
			bad = true
		}
	}
	return failIf(bad, "unable to parse startup options")
}

// checkUserID is Auth/Plugin.pm's verify_username.
func checkUserID(s string) error {
	switch n := len(s); {
	case n < 3:
		return fmt.Errorf("user name '%s' is too short", s)
	case n > 64:
		return fmt.Errorf("user name '%s' is too long (%d > 64)", s, n)
	}
	return failIf(!userIDRe.MatchString(s), "value '%s' does not look like a valid user name", s)
}

// checkPoolID is AccessControl.pm's verify_poolname.
func checkPoolID(s string) error {
	if len(perlSplit(s, "/")) > 3 {
		return fmt.Errorf("pool name '%s' nested too deeply (max levels = 3)", s)
	}
	return failIf(!poolRe.MatchString(s), "pool name '%s' contains invalid characters", s)
}

// checkCPUSet is QemuServer.pm's pve_verify_cpuset.
func checkCPUSet(s string) error {
	for _, p := range perlSplit(s, ",") {
		m := cpusetPartRe.FindStringSubmatch(p)
		if m == nil {
			return errors.New("unable to parse cpuset option")
		}
		if m[2] != "" {
			from, _ := strconv.Atoi(m[1])
			to, _ := strconv.Atoi(m[2])
			if to < from {
				return errors.New("unable to parse cpuset option")
			}
		}
	}
	return nil
}

// checkDirOverride is pve-storage Plugin.pm's verify_dir_override.
func checkDirOverride(s string) error {
	m := dirOverrideRe.FindStringSubmatch(s)
	if m != nil {
		if !isContentType(m[1]) {
			return fmt.Errorf("invalid content type '%s'", m[1])
		}
		ok := len(m[2]) < 1023
		for _, part := range perlSplit(m[2], "/") {
			if len(part) >= 255 {
				ok = false
			}
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("invalid override '%s'", s)
}

// isIP is JSONSchema.pm's pve_verify_ip.
func isIP(s string) bool { return ipv4Re.MatchString(s) || ipv6Re.MatchString(s) }

// isCIDR is pve_verify_cidrv4/v6: an address and a prefix length above 7.
func isCIDR(re *regexp.Regexp, s string, maxBits int) bool {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	n, err := strconv.Atoi(m[len(m)-1])
	return err == nil && n > 7 && n <= maxBits
}

// isContentType is pve-storage Plugin.pm's verify_content: 'import' and the
// content types of the dir plugin.
func isContentType(s string) bool {
	switch s {
	case "images", "rootdir", "vztmpl", "iso", "backup", "snippets", "none", "import":
		return true
	}
	return false
}

// isDriveName is Drive.pm's is_valid_drivename.
func isDriveName(s string) bool {
	if s == "efidisk0" || s == "tpmstate0" {
		return true
	}
	for _, bus := range []struct {
		name string
		max  int
	}{{"ide", 4}, {"sata", 6}, {"scsi", 31}, {"virtio", 16}} {
		if indexIn(s, bus.name, bus.max) {
			return true
		}
	}
	return false
}

// isBootDevice is QemuServer.pm's verify_bootdev: a drive other than
// efidisk/tpmstate, or a NIC, USB or PCI device key the config knows.
func isBootDevice(s string) bool {
	if strings.HasPrefix(s, "efidisk") || strings.HasPrefix(s, "tpmstate") {
		return false
	}
	return isDriveName(s) || indexIn(s, "net", 32) || indexIn(s, "usb", 14) || indexIn(s, "hostpci", 16)
}

// indexIn reports whether s is prefix followed by a canonical index below max.
func indexIn(s, prefix string, max int) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return false
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n >= 0 && n < max && strconv.Itoa(n) == rest
}

// splitList is ParseUtils.pm's split_list: members separated by ',', ';'
// and white space.
func splitList(s string) []string {
	if strings.Contains(s, "\x00") {
		return strings.Split(s, "\x00")
	}
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
	})
}

// perlSplit is Perl's split with a literal separator: trailing empty
// fields are dropped.
func perlSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}
