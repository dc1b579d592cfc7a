package pvesim

import (
	"slices"
	"strconv"
	"strings"
)

// PUT /nodes/{node}/qemu/{vmid}/sendkey (API2/Qemu.pm vm_sendkey, VM.Console
// on /vms/{vmid} from the schema): only root@pam may pass skiplock; then
// QemuServer.pm vm_sendkey loads the config under the config lock (it does
// not check the VM's lock) and sends the HMP command "sendkey <key>".
// Monitor.pm qmp_cmd dies "VM <vmid> not running" for a stopped VM; QEMU's
// hmp_sendkey (ui/ui-hmp-cmds.c) parses the key and prints
// "invalid parameter: <name>" for one it does not know, which vm_sendkey
// dies with. The answer is null.

// qKeyCodes are QEMU's QKeyCode names (qapi/ui.json), the names
// hmp_sendkey's index_from_key accepts.
var qKeyCodes = []string{
	"unmapped",
	"shift", "shift_r", "alt", "alt_r", "ctrl",
	"ctrl_r", "menu", "esc", "1", "2", "3", "4", "5", "6", "7", "8",
	"9", "0", "minus", "equal", "backspace", "tab", "q", "w", "e",
	"r", "t", "y", "u", "i", "o", "p", "bracket_left", "bracket_right",
	"ret", "a", "s", "d", "f", "g", "h", "j", "k", "l", "semicolon",
	"apostrophe", "grave_accent", "backslash", "z", "x", "c", "v", "b",
	"n", "m", "comma", "dot", "slash", "asterisk", "spc", "caps_lock",
	"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10",
	"num_lock", "scroll_lock", "kp_divide", "kp_multiply",
	"kp_subtract", "kp_add", "kp_enter", "kp_decimal", "sysrq", "kp_0",
	"kp_1", "kp_2", "kp_3", "kp_4", "kp_5", "kp_6", "kp_7", "kp_8",
	"kp_9", "less", "f11", "f12", "print", "home", "pgup", "pgdn", "end",
	"left", "up", "down", "right", "insert", "delete", "stop", "again",
	"props", "undo", "front", "copy", "open", "paste", "find", "cut",
	"lf", "help", "meta_l", "meta_r", "compose", "pause",
	"ro", "hiragana", "henkan", "yen", "muhenkan", "katakanahiragana",
	"kp_comma", "kp_equals", "power", "sleep", "wake",
	"audionext", "audioprev", "audiostop", "audioplay", "audiomute",
	"volumeup", "volumedown", "mediaselect",
	"mail", "calculator", "computer",
	"ac_home", "ac_back", "ac_forward", "ac_refresh", "ac_bookmarks",
	"lang1", "lang2", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24",
}

// sendKey answers PUT .../sendkey.
func sendKey(_ *Server, w *world, r *request) (any, error) {
	if err := rootOnlyParams(r, "skiplock"); err != nil {
		return nil, err
	}
	v, err := w.lookupVM(r)
	if err != nil {
		return nil, err
	}
	if !v.running() {
		return nil, failed("VM %d not running", v.vmid)
	}
	if bad, ok := invalidKey(r.param("key")); ok {
		return nil, failed("invalid parameter: %s", bad)
	}
	return nil, nil
}

// invalidKey parses keys as hmp_sendkey does: names joined by '-', each a
// QKeyCode name, a number with a 0x prefix, or "<" (read as "less"). It
// returns the first name that is none of these.
func invalidKey(keys string) (string, bool) {
	for name := range strings.SplitSeq(keys, "-") {
		switch {
		case name == "<":
		case strings.HasPrefix(name, "0x"):
			// strtol reads no '_', which Go's base prefix syntax allows.
			if _, err := strconv.ParseInt(name, 0, 32); err != nil || strings.Contains(name, "_") {
				return name, true
			}
		case !slices.Contains(qKeyCodes, name):
			return name, true
		}
	}
	return "", false
}
