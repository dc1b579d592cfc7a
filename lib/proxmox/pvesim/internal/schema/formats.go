package schema

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

var (
	nodeRe     = regexp.MustCompile(`^(?i:[a-z0-9]([a-z0-9-]*[a-z0-9])?)$`)
	configIDRe = regexp.MustCompile(`^(?i:[a-z][a-z0-9_-]+)$`)
	diskSizeRe = regexp.MustCompile(`^(\d+(\.\d+)?)([KMGT])?$`)
	dnsNameRe  = regexp.MustCompile(`^(?i:([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?)$`)
	bridgeRe   = regexp.MustCompile(`^[-_.\w\d]+$`)
	macRe      = regexp.MustCompile(`^(?i:[a-f0-9][02468ace](?::[a-f0-9]{2}){5})$`)
	poolRe     = regexp.MustCompile(`^(?i:[a-z0-9_][a-z0-9_\-+.]*)$`)
	realmRe    = regexp.MustCompile(`^(?i:[a-z][a-z0-9.\-_]+)$`)
	urlEncRe   = regexp.MustCompile(`^[-%a-zA-Z0-9_.!~*'()]*$`)
	qmPathRe   = regexp.MustCompile(`^(none|cdrom|/.+)$`)
	sizeVolRe  = regexp.MustCompile(`^(?i:[a-z][a-z0-9_.-]*[a-z0-9]):(\d+(\.\d+)?)$`)
)

// checkFormat checks a value against a registered PVE string format. Formats
// the simulator's clients never send are accepted unchecked.
func checkFormat(name, s string) error {
	switch name {
	case "pve-node":
		if !nodeRe.MatchString(s) {
			return errors.New("value does not look like a valid node name")
		}
	case "pve-storage-id":
		if !pve.ValidStorageID(s) {
			return fmt.Errorf("storage ID '%s' contains illegal characters", s)
		}
	case "pve-configid":
		if !configIDRe.MatchString(s) {
			return fmt.Errorf("invalid configuration ID '%s'", s)
		}
	case "pve-configid-list":
		for _, id := range splitList(s) {
			if !configIDRe.MatchString(id) {
				return fmt.Errorf("invalid configuration ID '%s'", id)
			}
		}
	case "pve-volume-id":
		if _, err := pve.ParseVolumeID(s); err != nil {
			return err
		}
	case "pve-volume-id-or-qm-path":
		if !qmPathRe.MatchString(s) && !sizeVolRe.MatchString(s) {
			if _, err := pve.ParseVolumeID(s); err != nil {
				return fmt.Errorf("unable to parse volume ID '%s'", s)
			}
		}
	case "pve-volume-id-or-absolute-path":
		if !strings.HasPrefix(s, "/") {
			if _, err := pve.ParseVolumeID(s); err != nil {
				return fmt.Errorf("unable to parse volume ID '%s'", s)
			}
		}
	case "disk-size":
		if !diskSizeRe.MatchString(s) {
			return fmt.Errorf("unable to parse size '%s'", s)
		}
	case "pve-tag-list":
		if _, err := pve.NormalizeTags(s); err != nil {
			return err
		}
	case "dns-name":
		if !dnsNameRe.MatchString(s) {
			return errors.New("value does not look like a valid DNS name")
		}
	case "pve-storage-content":
		if !isContentType(s) {
			return fmt.Errorf("invalid content type '%s'", s)
		}
	case "pve-storage-content-list":
		for _, c := range splitList(s) {
			if !isContentType(c) {
				return fmt.Errorf("invalid content type '%s'", c)
			}
		}
	case "pve-bridge-id":
		if !bridgeRe.MatchString(s) {
			return fmt.Errorf("invalid bridge ID '%s'", s)
		}
	case "mac-addr":
		if !macRe.MatchString(s) {
			return errors.New("value does not look like a valid unicast MAC address")
		}
	case "pve-poolid":
		if !poolRe.MatchString(s) {
			return fmt.Errorf("invalid pool ID '%s'", s)
		}
	case "pve-realm":
		if !realmRe.MatchString(s) {
			return fmt.Errorf("invalid realm '%s'", s)
		}
	case "urlencoded":
		if !urlEncRe.MatchString(s) {
			return fmt.Errorf("invalid urlencoded string: %s", s)
		}
		if _, err := url.PathUnescape(s); err != nil {
			return fmt.Errorf("invalid urlencoded string: %s", s)
		}
	}
	return nil
}

// isContentType reports whether s is a storage content type PVE knows.
func isContentType(s string) bool {
	switch s {
	case "images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import":
		return true
	}
	return false
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
}
