package pve

import (
	"path"
	"regexp"
	"strings"
)

var unsafeFilenameChars = regexp.MustCompile(`[^a-zA-Z0-9_.\-]`)

// NormalizeFilename applies PVE's rules for files put on a storage by
// download-url or upload: directories are stripped and every character
// outside [a-zA-Z0-9_.-] becomes '_'.
func NormalizeFilename(name string) string {
	return unsafeFilenameChars.ReplaceAllString(path.Base(strings.ReplaceAll(name, "\\", "/")), "_")
}

// FileVolName is the volume name of a file of a content type on a
// file-based storage: "import/x.qcow2", "iso/x.iso", "vztmpl/x.tar.zst".
func FileVolName(content, file string) string {
	return content + "/" + file
}
