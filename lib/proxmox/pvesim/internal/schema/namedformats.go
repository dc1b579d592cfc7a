package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// ideFormat is Drive.pm's "pve-qm-ide": the keys of an IDE drive, which the
// schema loader takes from the ide[n] parameter the apidoc spells out.
const ideFormat = "pve-qm-ide"

// namedFormatJSON returns the keys of a property-string format PVE registers
// by name (register_format(name, $hash)) and the apidoc names only, as
// schema JSON copied from the Perl source with the prose dropped.
func namedFormatJSON(name string) (string, bool) {
	switch name {
	case "pve-qm-watchdog": // qemu-server QemuServer.pm $watchdog_fmt
		return `{
 "model": {"default_key": 1, "type": "string", "enum": ["i6300esb", "ib700"], "default": "i6300esb", "optional": 1},
 "action": {"type": "string", "enum": ["reset", "shutdown", "poweroff", "pause", "debug", "none"], "optional": 1}}`, true
	case "pve-qm-cicustom": // qemu-server QemuServer.pm $cicustom_fmt
		return `{
 "meta": {"type": "string", "optional": 1, "format": "pve-volume-id"},
 "network": {"type": "string", "optional": 1, "format": "pve-volume-id"},
 "user": {"type": "string", "optional": 1, "format": "pve-volume-id"},
 "vendor": {"type": "string", "optional": 1, "format": "pve-volume-id"}}`, true
	case "pve-qm-boot": // qemu-server QemuServer.pm $boot_fmt
		return `{
 "legacy": {"optional": 1, "default_key": 1, "type": "string", "pattern": "[acdn]{1,4}", "default": "cdn"},
 "order": {"optional": 1, "type": "string", "format": "pve-qm-bootdev-list"}}`, true
	case "pve-qm-smbios1": // qemu-server QemuServer.pm $smbios1_fmt
		return `{
 "uuid": {"type": "string", "pattern": "[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}", "optional": 1},
 "version": {"type": "string", "pattern": "[A-Za-z0-9+\\/]+={0,2}", "optional": 1},
 "serial": {"type": "string", "pattern": "[A-Za-z0-9+\\/]+={0,2}", "optional": 1},
 "manufacturer": {"type": "string", "pattern": "[A-Za-z0-9+\\/]+={0,2}", "optional": 1},
 "product": {"type": "string", "pattern": "[A-Za-z0-9+\\/]+={0,2}", "optional": 1},
 "sku": {"type": "string", "pattern": "[A-Za-z0-9+\\/]+={0,2}", "optional": 1},
 "family": {"type": "string", "pattern": "[A-Za-z0-9+\\/]+={0,2}", "optional": 1},
 "base64": {"type": "boolean", "optional": 1}}`, true
	case "pve-qm-ipconfig": // qemu-server QemuServer/Network.pm $ipconfig_fmt
		return `{
 "ip": {"type": "string", "format": "pve-ipv4-config", "optional": 1, "default": "dhcp"},
 "gw": {"type": "string", "format": "ipv4", "optional": 1, "requires": "ip"},
 "ip6": {"type": "string", "format": "pve-ipv6-config", "optional": 1, "default": "dhcp"},
 "gw6": {"type": "string", "format": "ipv6", "optional": 1, "requires": "ip6"}}`, true
	case "pve-qm-hostpci": // qemu-server QemuServer/PCI.pm $hostpci_fmt
		return `{
 "host": {"default_key": 1, "optional": 1, "type": "string", "pattern": "` + pciIDRE + `(;` + pciIDRE + `)*"},
 "mapping": {"optional": 1, "type": "string", "format": "pve-configid"},
 "rombar": {"type": "boolean", "optional": 1, "default": 1},
 "romfile": {"type": "string", "pattern": "[^,;]+", "optional": 1},
 "pcie": {"type": "boolean", "optional": 1, "default": 0},
 "x-vga": {"type": "boolean", "optional": 1, "default": 0},
 "legacy-igd": {"type": "boolean", "optional": 1, "default": 0},
 "mdev": {"type": "string", "pattern": "[^/\\.:]+", "optional": 1},
 "vendor-id": {"type": "string", "pattern": "^0x[0-9a-fA-F]{4}$", "optional": 1},
 "device-id": {"type": "string", "pattern": "^0x[0-9a-fA-F]{4}$", "optional": 1},
 "sub-vendor-id": {"type": "string", "pattern": "^0x[0-9a-fA-F]{4}$", "optional": 1},
 "sub-device-id": {"type": "string", "pattern": "^0x[0-9a-fA-F]{4}$", "optional": 1},
 "driver": {"type": "string", "optional": 1, "default": "vfio", "enum": ["vfio", "keep"]}}`, true
	case "pve-qm-rng": // qemu-server QemuServer/RNG.pm $rng_fmt
		return `{
 "source": {"type": "string", "enum": ["/dev/urandom", "/dev/random", "/dev/hwrng"], "default_key": 1},
 "max_bytes": {"type": "integer", "optional": 1, "default": 1024},
 "period": {"type": "integer", "optional": 1, "default": 1000}}`, true
	case "pve-qemu-sev-fmt": // qemu-server QemuServer/CPUConfig.pm $sev_fmt
		return `{
 "type": {"type": "string", "default_key": 1, "enum": ["std", "es", "snp"], "maxLength": 3},
 "no-debug": {"type": "boolean", "default": 0, "optional": 1},
 "no-key-sharing": {"type": "boolean", "default": 0, "optional": 1},
 "allow-smt": {"type": "boolean", "default": 1, "optional": 1},
 "kernel-hashes": {"type": "boolean", "default": 0, "optional": 1}}`, true
	case "pve-qemu-tdx-fmt": // qemu-server QemuServer/CPUConfig.pm $tdx_fmt
		return `{
 "type": {"type": "string", "default_key": 1, "enum": ["tdx"]},
 "attestation": {"type": "boolean", "default": 1},
 "vsock-cid": {"type": "integer", "minimum": 2, "default": 2, "optional": 1},
 "vsock-port": {"type": "integer", "minimum": 0, "default": 4050, "optional": 1}}`, true
	case "pve-vm-cpu-conf": // qemu-server QemuServer/CPUConfig.pm $cpu_fmt
		models, _ := json.Marshal(reportedModels())
		return `{
 "cputype": {"type": "string", "default": "kvm64", "default_key": 1, "optional": 1},
 "reported-model": {"type": "string", "enum": ` + string(models) + `, "default": "kvm64", "optional": 1},
 "hidden": {"type": "boolean", "optional": 1, "default": 0},
 "hv-vendor-id": {"type": "string", "pattern": "[a-zA-Z0-9]{1,12}", "optional": 1},
 "flags": {"type": "string", "pattern": "` + cpuFlagAnyRE + `(;` + cpuFlagAnyRE + `)*", "optional": 1},
 "guest-phys-bits": {"type": "integer", "minimum": 32, "maximum": 64, "optional": 1},
 "phys-bits": {"type": "string", "format": "pve-phys-bits", "optional": 1},
 "level": {"type": "integer", "minimum": 0, "maximum": 4294967295, "optional": 1}}`, true
	case "prune-backups": // pve-storage Storage/Plugin.pm $prune_backups_format
		return `{
 "keep-all": {"type": "boolean", "optional": 1},
 "keep-last": {"type": "integer", "minimum": "0", "optional": 1},
 "keep-hourly": {"type": "integer", "minimum": "0", "optional": 1},
 "keep-daily": {"type": "integer", "minimum": "0", "optional": 1},
 "keep-weekly": {"type": "integer", "minimum": "0", "optional": 1},
 "keep-monthly": {"type": "integer", "minimum": "0", "optional": 1},
 "keep-yearly": {"type": "integer", "minimum": "0", "optional": 1}}`, true
	}
	return "", false
}

const (
	// pciIDRE is PCI.pm's $PCIRE.
	pciIDRE = `(?:[a-f0-9]{4,}:)?[a-f0-9]{2}:[a-f0-9]{2}(?:\\.[a-f0-9])?`
	// cpuFlagAnyRE is CPUFlags.pm's cpu_flag_any_re.
	cpuFlagAnyRE = `([+-])([a-zA-Z0-9\\-_\\.]+)`
)

// namedFormat returns the keys of a named property-string format, freshly
// decoded and compiled; ok is false for any other name.
func namedFormat(name string) (map[string]*Property, bool, error) {
	src, ok := namedFormatJSON(name)
	if !ok {
		return nil, false, nil
	}
	var keys map[string]*Property
	if err := json.Unmarshal([]byte(src), &keys); err != nil {
		return nil, true, fmt.Errorf("schema: format %s: %w", name, err)
	}
	for _, k := range keys {
		k.compile()
	}
	return keys, true, nil
}

// validateNamedFormat runs the validator PVE attaches to a named format
// (register_format's third argument) on the parsed property string.
func validateNamedFormat(name string, values map[string]string) error {
	switch name {
	case "pve-vm-cpu-conf":
		return validateVMCPUConf(values)
	case "prune-backups": // Storage/Plugin.pm validate_prune_backups
		keepAll := values["keep-all"] == "1"
		others := false
		for k, v := range values {
			if k != "keep-all" && strings.TrimLeft(v, "+0") != "" && !strings.HasPrefix(v, "-") {
				others = true
			}
		}
		return failIf(others && keepAll, "keep-all cannot be set together with other options.")
	}
	return nil
}

// validateVMCPUConf is CPUConfig.pm's validate_vm_cpu_conf. The simulator
// has no custom CPU models, so every "custom-" type is unknown.
func validateVMCPUConf(values map[string]string) error {
	cputype := values["cputype"]
	if cputype == "" {
		return errors.New("CPU is missing cputype")
	}
	if name, ok := strings.CutPrefix(cputype, "custom-"); ok {
		//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
		return fmt.Errorf("Custom cputype '%s' not found", name)
	}
	if !slices.Contains(reportedModels(), cputype) && !slices.Contains(builtinCPUModels(), cputype) {
		//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
		return fmt.Errorf("Built-in cputype '%s' is not defined (missing 'custom-' prefix?)", cputype)
	}
	if flags := values["flags"]; flags != "" && !vmCPUFlagsRe().MatchString(flags) {
		return fmt.Errorf("VM-specific CPU flags must be a subset of: %s", strings.Join(vmCPUFlags(), ", "))
	}
	if _, ok := values["reported-model"]; ok {
		//lint:ignore ST1005 Proxmox VE's own message, verbatim: the simulator answers as the real API does
		return errors.New("Property 'reported-model' not allowed in VM-specific CPU config.")
	}
	return nil
}

// vmCPUFlagsRe is validate_vm_cpu_conf's check against cpu_flag_supported_re.
func vmCPUFlagsRe() *regexp.Regexp {
	one := `([+-])(` + strings.Join(vmCPUFlags(), "|") + `)`
	return regexp.MustCompile(`^` + one + `(;` + one + `)*$`)
}

// vmCPUFlags returns CPUFlags.pm's supported_cpu_flags_names: the flags a
// VM-specific CPU config may set, sorted.
func vmCPUFlags() []string {
	return []string{"aes", "amd-no-ssb", "amd-ssbd", "hv-evmcs", "hv-tlbflush", "ibpb", "md-clear",
		"nested-virt", "pcid", "pdpe1gb", "spec-ctrl", "ssbd", "virt-ssbd"}
}

// builtinCPUModels returns CPUConfig.pm's $builtin_models_by_arch models.
func builtinCPUModels() []string {
	return []string{"x86-64-v2", "x86-64-v2-AES", "x86-64-v3", "x86-64-v4"}
}

// reportedModels returns CPUConfig.pm's get_all_cpu_models: the hard-coded
// x86_64 and aarch64 lists of initialize_cpu_models plus "host" (the
// simulated node is x86_64), sorted case-insensitively as $cpu_fmt's
// reported-model enum is.
func reportedModels() []string {
	models := []string{
		"486", "pentium", "pentium2", "pentium3", "coreduo", "core2duo", "Conroe", "Penryn", "Nehalem",
		"Nehalem-IBRS", "Westmere", "Westmere-IBRS", "SandyBridge", "SandyBridge-IBRS", "IvyBridge",
		"IvyBridge-IBRS", "Haswell", "Haswell-IBRS", "Haswell-noTSX", "Haswell-noTSX-IBRS", "Broadwell",
		"Broadwell-IBRS", "Broadwell-noTSX", "Broadwell-noTSX-IBRS", "Skylake-Client", "Skylake-Client-IBRS",
		"Skylake-Client-noTSX-IBRS", "Skylake-Client-v4", "Skylake-Server", "Skylake-Server-IBRS",
		"Skylake-Server-noTSX-IBRS", "Skylake-Server-v4", "Skylake-Server-v5", "Cascadelake-Server",
		"Cascadelake-Server-v2", "Cascadelake-Server-noTSX", "Cascadelake-Server-v4", "Cascadelake-Server-v5",
		"Cooperlake", "Cooperlake-v2", "KnightsMill", "Icelake-Client", "Icelake-Client-noTSX", "Icelake-Server",
		"Icelake-Server-noTSX", "Icelake-Server-v3", "Icelake-Server-v4", "Icelake-Server-v5", "Icelake-Server-v6",
		"Icelake-Server-v7", "SapphireRapids", "SapphireRapids-v2", "SapphireRapids-v3", "SapphireRapids-v4",
		"GraniteRapids", "GraniteRapids-v2", "GraniteRapids-v3", "SierraForest", "SierraForest-v2",
		"SierraForest-v3", "ClearwaterForest",
		"athlon", "phenom", "Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5", "EPYC",
		"EPYC-IBPB", "EPYC-v3", "EPYC-v4", "EPYC-v5", "EPYC-Rome", "EPYC-Rome-v2", "EPYC-Rome-v3", "EPYC-Rome-v4",
		"EPYC-Rome-v5", "EPYC-Milan", "EPYC-Milan-v2", "EPYC-Milan-v3", "EPYC-Genoa", "EPYC-Genoa-v2", "EPYC-Turin",
		"kvm32", "kvm64", "qemu32", "qemu64", "max",
		"a64fx", "cortex-a35", "cortex-a53", "cortex-a55", "cortex-a57", "cortex-a710", "cortex-a72",
		"cortex-a76", "neoverse-n1", "neoverse-n2", "neoverse-v1",
		"host",
	}
	sort.SliceStable(models, func(i, j int) bool { return strings.ToLower(models[i]) < strings.ToLower(models[j]) })
	return models
}

// isPrivilege reports whether s is a privilege AccessControl.pm's
// $privgroups (plus Permissions.Modify) defines.
func isPrivilege(s string) bool {
	return slices.Contains([]string{
		"Permissions.Modify",
		"VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.HWType",
		"VM.Config.Options", "VM.Allocate", "VM.Clone", "VM.GuestAgent.Unrestricted", "VM.Migrate",
		"VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback", "VM.Config.CDROM", "VM.Config.Cloudinit",
		"VM.Console", "VM.Backup", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt",
		"VM.GuestAgent.FileWrite", "VM.PowerMgmt", "VM.Audit", "VM.GuestAgent.Audit",
		"Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork", "Sys.Console", "Sys.Syslog", "Sys.Audit",
		"Datastore.Allocate", "Datastore.AllocateTemplate", "Datastore.AllocateSpace", "Datastore.Audit",
		"SDN.Allocate", "SDN.Audit", "SDN.Use",
		"Realm.Allocate", "User.Modify", "Group.Allocate", "Realm.AllocateUser",
		"Pool.Allocate", "Pool.Audit",
		"Mapping.Modify", "Mapping.Use", "Mapping.Audit",
	}, s)
}
