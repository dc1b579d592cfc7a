package pvesim

import (
	"bytes"
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

// probeISO is the format qemu-img's probe gives the file at real, as far as
// assert_iso_content cares: qcow2 when it starts with qcow2's magic, raw
// otherwise (untrustedImage then checks a qcow2 like an import).
func probeISO(real string) diskimage.Format {
	f, err := os.Open(real)
	if err != nil {
		return diskimage.Raw // untrustedImage's stat has already failed
	}
	defer f.Close()
	head := make([]byte, len(qcow2Magic))
	if n, _ := f.ReadAt(head, 0); n == len(head) && bytes.Equal(head, qcow2Magic) {
		return diskimage.QCOW2
	}
	return diskimage.Raw
}
