package pvesim

import (
	"bytes"
	"fmt"
	"os"
	"regexp"

	"github.com/wdiazux/infra/lib/diskimage"
)

// ISO content (pve-storage): Storage.pm's $ISO_EXT_RE_0 names the files of
// an "iso" volume, and assert_iso_content checks an uploaded or downloaded
// ISO with file_size_info(path, undef, 'auto-detect', 1): `qemu-img info`
// without a format, untrusted, so a file qemu-img detects as qcow2 is
// refused when it has a backing file or an external data file, and
// anything read as raw (every real ISO 9660 image) passes.

// isoExt is $ISO_EXT_RE_0 = qr/\.(?:iso|img)/i as Status.pm applies it to
// the normalized file name: m![^/]+$ISO_EXT_RE_0$!.
var isoExt = regexp.MustCompile(`(?i)[^/]+\.(?:iso|img)$`)

// checkISOExtension is the "iso" branch of upload and download-url: a 400
// on filename "wrong file extension".
func checkISOExtension(name string) error {
	if !isoExt.MatchString(name) {
		return badParam("filename", "wrong file extension")
	}
	return nil
}

// qcow2Magic starts a qcow2 image, the one format qemu-img's probe finds in
// a file that can refer to other files.
var qcow2Magic = []byte{'Q', 'F', 'I', 0xfb}

// assertISOContent is assert_iso_content on the file at real; shown is the
// path PVE names in its errors. It returns the file's size.
func assertISOContent(real, shown string) (int64, error) {
	info, err := os.Stat(real)
	if err != nil {
		return 0, fmt.Errorf("failed to stat '%s'", shown)
	}
	f, err := os.Open(real)
	if err != nil {
		return 0, fmt.Errorf("failed to stat '%s'", shown)
	}
	defer f.Close()
	head := make([]byte, len(qcow2Magic))
	if n, _ := f.ReadAt(head, 0); n < len(head) || !bytes.Equal(head, qcow2Magic) {
		return info.Size(), nil // qemu-img probes it as raw
	}
	di, err := diskimage.Inspect(f, info.Size(), diskimage.QCOW2)
	switch {
	case err != nil:
		return 0, fmt.Errorf("qemu-img: Could not open '%s': %v", shown, err)
	case di.DataFile != "":
		return 0, fmt.Errorf("%s: 'data-file' references are not allowed!", shown)
	case di.BackingFile != "":
		return 0, fmt.Errorf("backing file not allowed for untrusted image '%s'!", shown)
	}
	return info.Size(), nil
}
