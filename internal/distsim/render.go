package distsim

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/wdiazux/infra/lib/cloudimage"
)

func sum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sum512(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

// flip changes the first hex digit of a sum.
func flip(sum string) string {
	if sum[0] == '0' {
		return "1" + sum[1:]
	}
	return "0" + sum[1:]
}

// sign makes a detached signature of data, armored or binary, with the
// site's key or, under TamperOtherKey, the other one.
func (s *Sim) sign(t Tamper, data []byte, armored bool) ([]byte, error) {
	k := s.key
	if t == TamperOtherKey {
		k = s.other
	}
	var b bytes.Buffer
	var err error
	if armored {
		err = openpgp.ArmoredDetachSign(&b, k, bytes.NewReader(data), nil)
	} else {
		err = openpgp.DetachSign(&b, k, bytes.NewReader(data), nil)
	}
	return b.Bytes(), err
}

// sumsFile writes a checksum file in GNU form ("*" binary marker when
// star), leaving out skip; under TamperSumsAfterSigning the signed and the
// served files differ.
type sumLine struct{ sum, file string }

func sumsText(lines []sumLine, star bool) []byte {
	var b strings.Builder
	for _, l := range lines {
		sep := "  "
		if star {
			sep = " *"
		}
		b.WriteString(l.sum + sep + l.file + "\n")
	}
	return []byte(b.String())
}

// signedSums returns the served checksum file and its signature for a
// file list whose first line is the image.
func (s *Sim) signedSums(t Tamper, lines []sumLine, star, armored, signed bool) (sums, sig []byte, err error) {
	if t == TamperMissingEntry {
		lines = lines[1:]
	}
	sums = sumsText(lines, star)
	if signed {
		if sig, err = s.sign(t, sums, armored); err != nil {
			return nil, nil, err
		}
	}
	if t == TamperSumsAfterSigning {
		lines = slices.Clone(lines)
		lines[0].sum = flip(lines[0].sum)
		sums = sumsText(lines, star)
	}
	return sums, sig, nil
}

func index(names []string) []byte {
	var b strings.Builder
	b.WriteString("<html><head><title>Index</title></head><body><pre>\n<a href=\"../\">../</a>\n")
	for _, n := range names {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>%s\n", n, n, strings.Repeat(" ", max(1, 40-len(n))))
	}
	b.WriteString("</pre></body></html>\n")
	return []byte(b.String())
}

// render rebuilds an OS's files from its builds and tamper mode. s.mu held.
func (s *Sim) render(os string) error {
	p := sitePrefix(os)
	for k := range s.files {
		if strings.HasPrefix(k, p+"/") {
			delete(s.files, k)
		}
	}
	t := s.tamper[os]
	builds := s.builds[os]
	served := func(img []byte) []byte {
		if t != TamperImage {
			return img
		}
		c := bytes.Clone(img)
		c[len(c)-1] ^= 0xff
		return c
	}
	var err error
	switch os {
	case cloudimage.OSUbuntu:
		err = s.renderUbuntu(p, t, builds, served)
	case cloudimage.OSDebian:
		err = s.renderDebian(p, t, builds, served)
	case cloudimage.OSArch:
		err = s.renderArch(p, t, builds, served)
	case cloudimage.OSNixOS:
		err = s.renderNixOS(p, t, builds, served)
	}
	return err
}

// withAlias lists a build's directory and, for the newest build, the
// publisher's alias of it ("release/", "latest/").
func withAlias(dir, alias string, newest bool) []string {
	if newest {
		return []string{dir, alias}
	}
	return []string{dir}
}

func (s *Sim) renderUbuntu(p string, t Tamper, builds []build, served func([]byte) []byte) error {
	root := p + "/releases/noble/"
	var dirs []string
	for i, b := range builds {
		img := "ubuntu-24.04-server-cloudimg-amd64.img"
		lines := []sumLine{{sum256(b.image), img},
			{sum256([]byte("arm64 " + b.serial)), "ubuntu-24.04-server-cloudimg-arm64.img"},
			{sum256([]byte("manifest " + b.serial)), "ubuntu-24.04-server-cloudimg-amd64.manifest"}}
		sums, sig, err := s.signedSums(t, lines, true, true, true)
		if err != nil {
			return err
		}
		for _, d := range withAlias(root+"release-"+b.serial+"/", root+"release/", i == len(builds)-1) {
			s.files[d+img] = served(b.image)
			s.files[d+"SHA256SUMS"] = sums
			s.files[d+"SHA256SUMS.gpg"] = sig
			s.files[d] = index([]string{img, "SHA256SUMS", "SHA256SUMS.gpg"})
		}
		dirs = append(dirs, "release-"+b.serial+"/")
	}
	s.files[root] = index(append(dirs, "release/"))
	return nil
}

func (s *Sim) renderDebian(p string, t Tamper, builds []build, served func([]byte) []byte) error {
	root := p + "/trixie/"
	dirs := []string{"daily/"}
	for i, b := range builds {
		for _, d := range []string{b.serial, "latest"} {
			if d == "latest" && i != len(builds)-1 {
				continue
			}
			suffix := "-" + b.serial
			if d == "latest" {
				suffix = ""
			}
			img := "debian-13-genericcloud-amd64" + suffix + ".qcow2"
			lines := []sumLine{{sum512(b.image), img},
				{sum512([]byte("generic " + b.serial)), "debian-13-generic-amd64" + suffix + ".qcow2"},
				{sum512([]byte("nocloud " + b.serial)), "debian-13-nocloud-amd64" + suffix + ".qcow2"}}
			sums, _, err := s.signedSums(t, lines, false, false, false)
			if err != nil {
				return err
			}
			dir := root + d + "/"
			s.files[dir+img] = served(b.image)
			s.files[dir+"SHA512SUMS"] = sums
			s.files[dir] = index([]string{img, "SHA512SUMS"})
		}
		dirs = append(dirs, b.serial+"/")
	}
	s.files[root] = index(append(dirs, "latest/"))
	return nil
}

func (s *Sim) renderArch(p string, t Tamper, builds []build, served func([]byte) []byte) error {
	var dirs []string
	for i, b := range builds {
		img := "Arch-Linux-x86_64-cloudimg-" + b.serial + ".qcow2"
		sums, sumsSig, err := s.signedSums(t, []sumLine{{sum256(b.image), img}}, false, false, true)
		if err != nil {
			return err
		}
		imgSig, err := s.sign(t, b.image, false)
		if err != nil {
			return err
		}
		for _, d := range withAlias(p+"/v"+b.serial+"/", p+"/latest/", i == len(builds)-1) {
			names := []string{img, "Arch-Linux-x86_64-cloudimg.qcow2"}
			if !strings.HasSuffix(d, "/latest/") {
				names = names[:1]
			}
			var listed []string
			for _, n := range names {
				s.files[d+n] = served(b.image)
				s.files[d+n+".SHA256"] = sums
				s.files[d+n+".SHA256.sig"] = sumsSig
				s.files[d+n+".sig"] = imgSig
				listed = append(listed, n, n+".SHA256", n+".SHA256.sig", n+".sig")
			}
			s.files[d] = index(listed)
		}
		dirs = append(dirs, "v"+b.serial+"/")
	}
	s.files[p+"/"] = index(append(dirs, "latest/"))
	return nil
}

// hydraJSON is Hydra's build JSON, the fields it has for a finished build.
func (s *Sim) hydraJSON(t Tamper, b build) ([]byte, error) {
	name := "vzdump-qemu-nixos-" + b.label + ".vma.zst"
	if t == TamperMissingEntry {
		name = "nixos-" + b.label + ".iso"
	}
	sum := sum256(b.image)
	if t == TamperSumsAfterSigning {
		sum = flip(sum)
	}
	return json.Marshal(map[string]any{
		"id": b.id, "finished": 1, "buildstatus": 0, "project": "nixos", "jobset": "release-25.11",
		"job": "nixos.proxmoxImage.x86_64-linux", "nixname": "proxmox-nixos-" + b.label, "system": "x86_64-linux",
		"timestamp": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix() + b.id%1000,
		"buildproducts": map[string]any{"1": map[string]any{
			"name": name, "type": "file", "subtype": "vma", "filesize": len(b.image), "sha256hash": sum,
			"path": "/nix/store/0000000000000000000000000000000-proxmox-nixos-" + b.label + "/" + name, "defaultpath": "",
		}},
		"buildoutputs": map[string]any{"out": map[string]any{"path": "/nix/store/0000000000000000000000000000000-proxmox-nixos-" + b.label}},
	})
}

func (s *Sim) renderNixOS(p string, t Tamper, builds []build, served func([]byte) []byte) error {
	for i, b := range builds {
		j, err := s.hydraJSON(t, b)
		if err != nil {
			return err
		}
		id := strconv.FormatInt(b.id, 10)
		s.files[p+"/build/"+id] = j
		s.files[p+"/build/"+id+"/download/1/vzdump-qemu-nixos-"+b.label+".vma.zst"] = served(b.image)
		if i == len(builds)-1 {
			// Hydra answers a job's latest with a redirect to the build.
			s.files[p+"/job/"+cloudimage.NixOSJob("25.11")+"/latest"] = []byte(redirectTo + p + "/build/" + id)
		}
	}
	return nil
}

// redirectTo marks a rendered file that is a redirect to the path after it.
const redirectTo = "\x00redirect:"

// serve answers from the rendered files; a directory without its slash
// redirects as a web server does.
func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	body, ok := s.files[r.URL.Path]
	_, dir := s.files[r.URL.Path+"/"]
	s.mu.Unlock()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !ok {
		if dir {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	if target, ok := strings.CutPrefix(string(body), redirectTo); ok {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	hydra := strings.HasPrefix(r.URL.Path, sitePrefix(cloudimage.OSNixOS)+"/") && !strings.Contains(r.URL.Path, "/download/")
	if hydra && !strings.Contains(r.Header.Get("Accept"), "application/json") {
		// Hydra serves its HTML pages unless JSON is asked for.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Hydra</title></head><body></body></html>\n"))
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/"):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	case hydra:
		w.Header().Set("Content-Type", "application/json")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
