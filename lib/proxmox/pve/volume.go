package pve

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

var (
	storageIDRe = regexp.MustCompile(`(?i)^[a-z][a-z0-9_.-]*[a-z0-9]$`)
	tagRe       = regexp.MustCompile(`(?i)^[a-z0-9_][a-z0-9_+.-]*$`)
)

// ValidStorageID reports whether s is a valid PVE storage ID.
func ValidStorageID(s string) bool { return storageIDRe.MatchString(s) }

// VolumeID is a PVE volume ID, "storage:volname", e.g. "local:import/talos.qcow2".
type VolumeID struct {
	Storage string
	Name    string
}

// ParseVolumeID splits "storage:volname".
func ParseVolumeID(s string) (VolumeID, error) {
	st, name, ok := strings.Cut(s, ":")
	if !ok || !ValidStorageID(st) || name == "" {
		return VolumeID{}, fmt.Errorf("unable to parse volume ID '%s'", s)
	}
	return VolumeID{Storage: st, Name: name}, nil
}

// String writes "storage:volname".
func (v VolumeID) String() string { return v.Storage + ":" + v.Name }

// NormalizeTags returns PVE's stored form of a tag list: tags split at ';',
// ',' or spaces, lower-cased, deduplicated, sorted and joined with ';'. An
// invalid tag is an error naming it.
func NormalizeTags(s string) (string, error) {
	var tags []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
		if !tagRe.MatchString(t) {
			return "", fmt.Errorf("invalid tag '%s'", t)
		}
		tags = append(tags, strings.ToLower(t))
	}
	slices.Sort(tags)
	return strings.Join(slices.Compact(tags), ";"), nil
}

// SplitTags returns the tags of a stored tag list.
func SplitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
}
