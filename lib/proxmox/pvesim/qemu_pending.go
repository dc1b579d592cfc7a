package pvesim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// Pending changes, as qemu-server keeps them in the config's [PENDING]
// section: API2/Qemu.pm update_vm_api writes every change there; on a
// stopped VM vmconfig_apply_pending applies them all at once, on a running
// one vmconfig_hotplug_pending applies what can change live and the rest
// waits for the next start.

// fastPlug are the options that never touch the running VM
// (QemuServer.pm $fast_plug_option, with the cloud-init options).
var fastPlug = map[string]bool{
	"description": true, "hookscript": true, "lock": true, "migrate_downtime": true, "migrate_speed": true,
	"name": true, "onboot": true, "protection": true, "shares": true, "startup": true, "tags": true,
	"vmstatestorage": true,
	"cicustom":       true, "cipassword": true, "citype": true, "ciupgrade": true, "ciuser": true,
	"nameserver": true, "searchdomain": true, "sshkeys": true,
}

// isFastPlug reports whether an option applies at once on a running VM.
func isFastPlug(k string) bool {
	return fastPlug[k] || strings.HasPrefix(k, "ipconfig")
}

// hotplugFeatures are the VM's hotplug features (parse_hotplug_features):
// "1" or unset is "network,disk,usb", "0" none.
func (v *vm) hotplugFeatures() map[string]bool {
	val, ok := v.conf.get("hotplug")
	if !ok || val == "1" {
		val = "network,disk,usb"
	}
	out := map[string]bool{}
	if val == "0" {
		return out
	}
	for _, f := range strings.Split(val, ",") {
		out[strings.TrimSpace(f)] = true
	}
	return out
}

// hotpluggable reports whether setting k to val on the running VM applies
// live (vmconfig_hotplug_pending); otherwise it stays pending.
func (v *vm) hotpluggable(k, val string) bool {
	features := v.hotplugFeatures()
	old, had := v.conf.get(k)
	switch {
	case isFastPlug(k):
		return true
	case strings.HasPrefix(k, "net"):
		return features["network"]
	case k == "efidisk0" || k == "tpmstate0":
		return false
	case isDiskKey(k) && !strings.HasPrefix(k, "unused"):
		// vmconfig_update_disk: a CD-ROM changes its medium live; the
		// same volume changes live unless an option QEMU cannot change
		// on a running drive differs; a new volume is hotplugged (not on
		// ide/sata) with the disk feature.
		if had && strings.Contains(old, "media=cdrom") {
			return true
		}
		if had && driveFile(old) == driveFile(val) {
			return !coldDriveChange(old, val)
		}
		return features["disk"] && !strings.HasPrefix(k, "ide") && !strings.HasPrefix(k, "sata")
	case k == "memory":
		return features["memory"]
	case k == "vcpus":
		return features["cpu"]
	case k == "cpuunits" || k == "cpulimit":
		return true
	case k == "balloon":
		return (old != "0") == (val != "0") || !had && val != "0"
	case k == "agent":
		// vmconfig_update_agent: only fstrim_cloned_disks changes live.
		return had && agentWithout(old) == agentWithout(val)
	case k == "tablet":
		return features["usb"]
	case strings.HasPrefix(k, "usb"):
		return v.usbHotplug(features)
	}
	return false
}

// usbHotplug is vmconfig_hotplug_pending's $is_usb_hotplug_supported for
// a machine version of 7.1 or later: the usb feature and a Linux 2.6+ or
// Windows 8+ guest.
func (v *vm) usbHotplug(features map[string]bool) bool {
	os, _ := v.conf.get("ostype")
	return features["usb"] && (os == "l26" || os == "win8" || os == "win10" || os == "win11")
}

// hotunpluggable reports whether deleting k from the running VM applies
// live; otherwise the deletion stays pending.
func (v *vm) hotunpluggable(k string) bool {
	features := v.hotplugFeatures()
	switch {
	case isFastPlug(k), k == "cpuunits", k == "cpulimit":
		return true
	case strings.HasPrefix(k, "net"):
		return features["network"]
	case isDiskKey(k) && !strings.HasPrefix(k, "unused"):
		return features["disk"] && !strings.HasPrefix(k, "ide") && !strings.HasPrefix(k, "sata") &&
			k != "efidisk0" && k != "tpmstate0"
	case k == "memory":
		return features["memory"]
	case k == "vcpus":
		return features["cpu"]
	case k == "balloon":
		b, _ := v.conf.get("balloon")
		return b != "0"
	case k == "tablet":
		return features["usb"]
	case strings.HasPrefix(k, "usb"):
		return v.usbHotplug(features)
	}
	return strings.HasPrefix(k, "unused")
}

// coldDriveChange reports whether two values of the same drive differ in
// an option vmconfig_update_disk cannot change on a running VM.
func coldDriveChange(old, val string) bool {
	a, errA := pve.ParsePropertyString(old, "file")
	b, errB := pve.ParsePropertyString(val, "file")
	if errA != nil || errB != nil {
		return true
	}
	for _, o := range []string{"aio", "discard", "iothread", "queues", "product", "cache", "ssd", "vendor", "ro"} {
		if a.Value(o) != b.Value(o) {
			return true
		}
	}
	return false
}

// driveFile is the volume of a drive value.
func driveFile(val string) string {
	return strings.SplitN(val, ",", 2)[0]
}

// agentWithout renders an agent value without its live-changeable option.
func agentWithout(val string) string {
	ps, err := pve.ParsePropertyString(val, "enabled")
	if err != nil {
		return val
	}
	ps.Delete("fstrim_cloned_disks")
	return ps.String()
}

// write sets an option: at once on a stopped VM or when it can change
// live, else as a pending change. Caller holds the lock.
func (v *vm) write(k, val string) {
	old, had := v.conf.get(k)
	if had && old == val { // cleanup_pending drops it
		if v.pending != nil {
			v.pending.del(k)
		}
		v.pendingDel = slices.DeleteFunc(v.pendingDel, func(x string) bool { return x == k })
		return
	}
	if v.running() && !v.hotpluggable(k, val) {
		if v.pending == nil {
			v.pending = newConfig()
		}
		v.pending.set(k, val)
		v.pendingDel = slices.DeleteFunc(v.pendingDel, func(x string) bool { return x == k })
		return
	}
	if v.running() && k != "cipassword" { // update_vm_api writes cipassword directly
		var prev *string
		if had {
			prev = &old
		}
		v.recordCloudinit(k, prev, &val)
	}
	v.conf.set(k, val)
	if v.pending != nil {
		v.pending.del(k)
	}
}

// remove deletes an option: at once on a stopped VM or when it can go
// live, else as a pending deletion. Caller holds the lock.
func (v *vm) remove(k string) {
	if v.running() && !v.hotunpluggable(k) {
		if v.pending != nil {
			v.pending.del(k)
		}
		if _, set := v.conf.get(k); set && !slices.Contains(v.pendingDel, k) {
			v.pendingDel = append(v.pendingDel, k)
		}
		return
	}
	if v.pending != nil {
		v.pending.del(k)
	}
	if old, had := v.conf.get(k); had && v.running() {
		v.recordCloudinit(k, &old, nil)
	}
	v.conf.deleteOption(k)
}

// deleteOption removes an option; a removed disk (not a CD-ROM) is kept
// as the first free unusedN, as PVE does.
func (c *config) deleteOption(k string) {
	if val, ok := c.get(k); ok && isDiskKey(k) && !strings.HasPrefix(k, "unused") && !strings.Contains(val, "media=cdrom") {
		c.addUnused(driveFile(val))
	}
	c.del(k)
}

// addUnused is PVE::AbstractConfig add_unused_volume: the volume becomes
// the first free unusedN (or keeps the unusedN that already names it); it
// returns the key.
func (c *config) addUnused(volid string) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("unused%d", i)
		val, used := c.get(k)
		if !used {
			c.set(k, volid)
			return k
		}
		if val == volid {
			return k
		}
	}
}

// settle ends a config update: pending values equal to the current ones
// are dropped (cleanup_pending), and a stopped VM applies every pending
// change (vmconfig_apply_pending). Caller holds the lock.
func (v *vm) settle(w *world) {
	if v.pending != nil {
		for _, k := range slices.Clone(v.pending.keys) {
			if cur, ok := v.conf.get(k); ok && cur == v.pending.vals[k] {
				v.pending.del(k)
			}
		}
	}
	if !v.running() {
		v.applyPending(w)
	} else if v.hotplugFeatures()["cloudinit"] && v.hasCloudinitDrive() {
		v.regenerateCloudinit() // vmconfig_update_cloudinit_drive
	}
}

// applyPending applies every pending change (vmconfig_apply_pending).
// Caller holds the lock.
func (v *vm) applyPending(_ *world) {
	for _, k := range v.pendingDel {
		v.conf.deleteOption(k)
	}
	if v.pending != nil {
		for _, k := range v.pending.keys {
			v.conf.set(k, v.pending.vals[k])
		}
	}
	v.pending, v.pendingDel = nil, nil
}

// view is the config GET config answers by default: pending values
// applied, pending deletions left out.
func (v *vm) view() *config {
	if v.pending == nil && len(v.pendingDel) == 0 {
		return v.conf
	}
	out := newConfig()
	for _, k := range v.conf.keys {
		if !slices.Contains(v.pendingDel, k) {
			out.set(k, v.conf.vals[k])
		}
	}
	if v.pending != nil {
		for _, k := range v.pending.keys {
			out.set(k, v.pending.vals[k])
		}
	}
	return out
}

// digest is the SHA-1 of the whole config file, its [PENDING] section
// included.
func (v *vm) digest() string {
	if v.pending == nil && len(v.pendingDel) == 0 {
		return v.conf.digest()
	}
	file := newConfig()
	for _, k := range v.conf.keys {
		file.set(k, v.conf.vals[k])
	}
	if v.pending != nil {
		for _, k := range v.pending.keys {
			file.set("[PENDING] "+k, v.pending.vals[k])
		}
	}
	if len(v.pendingDel) > 0 {
		file.set("[PENDING] delete", strings.Join(v.pendingDel, ","))
	}
	return file.digest()
}

// vmPending answers GET .../pending (GuestHelpers.pm
// config_with_pending_array): every option of the parsed config, digest
// and lock included, with its current value, its pending value and whether
// its deletion is pending; cipassword masked as vm_pending masks it.
func vmPending(s *Server, w *world, r *request) (any, error) {
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	keys := slices.Clone(v.conf.keys)
	if v.pending != nil {
		for _, k := range v.pending.keys {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	out := []map[string]any{}
	for _, k := range keys {
		e := map[string]any{"key": k}
		if val, ok := v.conf.get(k); ok {
			e["value"] = s.typedValue(k, val)
			if k == "cipassword" {
				e["value"] = masked
			}
		}
		if v.pending != nil {
			if val, ok := v.pending.get(k); ok {
				e["pending"] = s.typedValue(k, val)
				if k == "cipassword" {
					e["pending"] = masked + " "
				}
			}
		}
		if slices.Contains(v.pendingDel, k) {
			e["delete"] = 1
		}
		out = append(out, e)
	}
	if v.lock != "" {
		out = append(out, map[string]any{"key": "lock", "value": v.lock})
	}
	return append(out, map[string]any{"key": "digest", "value": v.digest()}), nil
}
