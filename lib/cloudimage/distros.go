package cloudimage

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// listing returns the serials linked from a directory index page
// ("href=\"<prefix><serial>/\""), newest last by the publisher's order.
func (r *Resolver) listing(ctx context.Context, os, u string, re *regexp.Regexp, less func(a, b string) int) ([]string, error) {
	page, err := r.get(ctx, os, "directory listing", u, "")
	if err != nil {
		return nil, err
	}
	var serials []string
	for _, m := range re.FindAllStringSubmatch(string(page), -1) {
		if !slices.Contains(serials, m[1]) {
			serials = append(serials, m[1])
		}
	}
	if len(serials) == 0 {
		return nil, fmt.Errorf("cloud image: %s: the directory listing %s links no build (looked for %s); the publisher changed its layout",
			os, u, re)
	}
	slices.SortFunc(serials, less)
	return serials, nil
}

// numericParts compares serials made of numbers separated by '.' or '-'.
func numericParts(a, b string) int {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.ParseInt(pa[i], 10, 64)
		y, _ := strconv.ParseInt(pb[i], 10, 64)
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(pa), len(pb))
}

func badSerial(os, release, serial, form string) error {
	return fmt.Errorf("cloud image: %s %s: %w %q: the publisher names builds like %s; fix images.lock", os, release, ErrBadSerial, serial, form)
}

// listed is a publisher whose builds are directories named by their
// serial, found in the directory listing of the release (Ubuntu, Debian).
type listed struct {
	os, release, codename string
	// serial is the form of a build name, form says it in words.
	serial *regexp.Regexp
	form   string
	// href finds the serials in the listing.
	href *regexp.Regexp
	// list is the listing's path, dir a build's directory (below the base).
	list func(codename string) string
	dir  func(codename, serial string) string
	// file is the image's file name in a build's directory.
	file func(release, serial string) string
	// algo and sums name the checksum file; sig its signature ("" when the
	// publisher signs nothing).
	algo, sums, sig string
}

// Ubuntu: cloud-images.ubuntu.com/releases/<codename>/release-<serial>/.
func ubuntu() listed {
	return listed{
		os: OSUbuntu, release: "24.04", codename: "noble",
		serial: regexp.MustCompile(`^[0-9]{8}(\.[0-9]+)?$`), form: "20261120 or 20261120.1",
		href: regexp.MustCompile(`href="release-([0-9]{8}(?:\.[0-9]+)?)/"`),
		list: func(c string) string { return "/releases/" + c + "/" },
		dir:  func(c, s string) string { return "/releases/" + c + "/release-" + s + "/" },
		file: func(r, _ string) string { return "ubuntu-" + r + "-server-cloudimg-amd64.img" },
		algo: SHA256, sums: "SHA256SUMS", sig: "SHA256SUMS.gpg",
	}
}

// Debian: cloud.debian.org/images/cloud/<codename>/<YYYYMMDD-NNNN>/.
func debian() listed {
	return listed{
		os: OSDebian, release: "13", codename: "trixie",
		serial: regexp.MustCompile(`^[0-9]{8}-[0-9]+$`), form: "20261118-2301",
		href: regexp.MustCompile(`href="([0-9]{8}-[0-9]+)/"`),
		list: func(c string) string { return "/" + c + "/" },
		dir:  func(c, s string) string { return "/" + c + "/" + s + "/" },
		file: func(r, s string) string { return "debian-" + r + "-genericcloud-amd64-" + s + ".qcow2" },
		algo: SHA512, sums: "SHA512SUMS",
	}
}

func (l listed) releases() []string { return []string{l.release} }

func (l listed) latest(ctx context.Context, r *Resolver, _ string) (string, error) {
	s, err := r.listing(ctx, l.os, r.bases[l.os]+l.list(l.codename), l.href, numericParts)
	if err != nil {
		return "", err
	}
	return s[len(s)-1], nil
}

func (l listed) build(ctx context.Context, r *Resolver, release, serial string) (Build, error) {
	if !l.serial.MatchString(serial) {
		return Build{}, badSerial(l.os, release, serial, l.form)
	}
	dir := r.bases[l.os] + l.dir(l.codename, serial)
	sig := ""
	if l.sig != "" {
		sig = dir + l.sig
	}
	return r.signedBuild(ctx, l.os, release, serial, dir, l.file(release, serial), FormatQCOW2, l.algo, dir+l.sums, sig)
}

// signedBuild reads a build from a checksum file (verified where the OS is
// signed).
func (r *Resolver) signedBuild(ctx context.Context, os, release, serial, dir, file, format, algo, sumsURL, sigURL string) (Build, error) {
	sums, signer, err := r.sumsFile(ctx, os, release, sumsURL, sigURL)
	if err != nil {
		return Build{}, err
	}
	sum, err := entry(os, release, serial, sumsURL, sums, algo, file)
	if err != nil {
		return Build{}, err
	}
	b := Build{OS: os, Release: release, Serial: serial, URL: dir + file, File: file, Format: format,
		Checksum: sum, Algorithm: algo, ChecksumURL: sumsURL, SignedBy: signer}
	if signer != "" {
		b.SignatureURL = sigURL
	}
	return b, nil
}

// ---- Arch: geo.mirror.pkgbuild.com/images/v<serial>/ (arch-boxes)

type arch struct{}

var (
	archSerial = regexp.MustCompile(`^[0-9]{8}\.[0-9]+$`)
	archFile   = regexp.MustCompile(`^Arch-Linux-x86_64-cloudimg-([0-9]{8}\.[0-9]+)\.qcow2$`)
)

const archLatestFile = "Arch-Linux-x86_64-cloudimg.qcow2"

func (arch) releases() []string { return []string{"rolling"} }

// latest reads latest/'s checksum file, signed like every release file: it
// names the versioned image (sha256sum ran on it before the "latest"
// symlinks were made), which gives the serial.
func (arch) latest(ctx context.Context, r *Resolver, release string) (string, error) {
	dir := r.bases[OSArch] + "/latest/"
	sumsURL := dir + archLatestFile + ".SHA256"
	sums, _, err := r.sumsFile(ctx, OSArch, release, sumsURL, sumsURL+".sig")
	if err != nil {
		return "", err
	}
	m, err := ParseSums(sums, SHA256)
	if err != nil {
		return "", fmt.Errorf("cloud image: arch: %s: %w", sumsURL, err)
	}
	for f := range m {
		if sm := archFile.FindStringSubmatch(f); sm != nil {
			return sm[1], nil
		}
	}
	return "", &MissingEntryError{OS: OSArch, Release: release, Serial: "latest", URL: sumsURL, File: "Arch-Linux-x86_64-cloudimg-<version>.qcow2", Files: keys(m)}
}

func (arch) build(ctx context.Context, r *Resolver, release, serial string) (Build, error) {
	if !archSerial.MatchString(serial) {
		return Build{}, badSerial(OSArch, release, serial, "20261101.412345")
	}
	dir := r.bases[OSArch] + "/v" + serial + "/"
	file := "Arch-Linux-x86_64-cloudimg-" + serial + ".qcow2"
	return r.signedBuild(ctx, OSArch, release, serial, dir, file, FormatQCOW2, SHA256, dir+file+".SHA256", dir+file+".SHA256.sig")
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ---- NixOS: Hydra's nixos/release-<release>/nixos.proxmoxImage.x86_64-linux

type nixos struct{}

var (
	nixosSerial = regexp.MustCompile(`^([0-9]{2}\.[0-9]{2}[.0-9a-z]*)-([0-9]+)$`)
	nixosFile   = regexp.MustCompile(`^vzdump-qemu-nixos-([0-9]{2}\.[0-9]{2}[.0-9a-z]*)\.vma\.zst$`)
)

func (nixos) releases() []string { return []string{"25.11"} }

// NixOSJob is the Hydra job that builds the Proxmox VMA of a release.
func NixOSJob(release string) string {
	return "nixos/release-" + release + "/nixos.proxmoxImage.x86_64-linux"
}

// hydraBuild is the part of Hydra's build JSON this package reads.
type hydraBuild struct {
	ID            int64  `json:"id"`
	Finished      int    `json:"finished"`
	BuildStatus   *int   `json:"buildstatus"`
	Project       string `json:"project"`
	Jobset        string `json:"jobset"`
	Job           string `json:"job"`
	BuildProducts map[string]struct {
		Name       string `json:"name"`
		Type       string `json:"type"`
		Subtype    string `json:"subtype"`
		SHA256Hash string `json:"sha256hash"`
		FileSize   int64  `json:"filesize"`
	} `json:"buildproducts"`
}

func (nixos) latest(ctx context.Context, r *Resolver, release string) (string, error) {
	u := r.bases[OSNixOS] + "/job/" + NixOSJob(release) + "/latest"
	b, _, err := hydraGet(ctx, r, release, u)
	if err != nil {
		return "", err
	}
	return b.Serial, nil
}

func (nixos) build(ctx context.Context, r *Resolver, release, serial string) (Build, error) {
	m := nixosSerial.FindStringSubmatch(serial)
	if m == nil {
		return Build{}, badSerial(OSNixOS, release, serial, "25.11.1234.abcdef0-312345678 (<version label>-<Hydra build id>)")
	}
	b, _, err := hydraGet(ctx, r, release, r.bases[OSNixOS]+"/build/"+m[2])
	if err != nil {
		return Build{}, err
	}
	if b.Serial != serial {
		return Build{}, fmt.Errorf("cloud image: nixos %s: Hydra build %s is %s, not %s: images.lock names a build that does not hold that image; fix images.lock",
			release, m[2], b.Serial, serial)
	}
	return b, nil
}

// hydraGet reads a Hydra build as JSON and checks it is a finished,
// successful build of the release's job with one VMA product.
func hydraGet(ctx context.Context, r *Resolver, release, u string) (Build, hydraBuild, error) {
	body, err := r.get(ctx, OSNixOS, "Hydra build", u, "application/json")
	if err != nil {
		return Build{}, hydraBuild{}, err
	}
	var hb hydraBuild
	if err := json.Unmarshal(body, &hb); err != nil {
		return Build{}, hb, fmt.Errorf("cloud image: nixos: GET %s: not Hydra's build JSON: %w", u, err)
	}
	job := NixOSJob(release)
	if got := hb.Project + "/" + hb.Jobset + "/" + hb.Job; got != job {
		return Build{}, hb, fmt.Errorf("cloud image: nixos %s: %s is Hydra build %d of %s, not of %s", release, u, hb.ID, got, job)
	}
	if hb.Finished != 1 || hb.BuildStatus == nil || *hb.BuildStatus != 0 {
		return Build{}, hb, fmt.Errorf("cloud image: nixos %s: Hydra build %d (%s) did not finish successfully; choose another build", release, hb.ID, u)
	}
	// Product numbers in order, so a build with two VMAs resolves the same
	// way every time.
	nrs := slices.Collect(maps.Keys(hb.BuildProducts))
	slices.SortFunc(nrs, numericParts)
	for _, nr := range nrs {
		p := hb.BuildProducts[nr]
		fm := nixosFile.FindStringSubmatch(p.Name)
		if fm == nil || p.Type != "file" {
			continue
		}
		sum := strings.ToLower(p.SHA256Hash)
		if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
			return Build{}, hb, fmt.Errorf("cloud image: nixos %s: Hydra build %d: product %s has sha256hash %q, not 64 hex digits", release, hb.ID, p.Name, p.SHA256Hash)
		}
		base := r.bases[OSNixOS] + "/build/" + strconv.FormatInt(hb.ID, 10)
		return Build{OS: OSNixOS, Release: release, Serial: fm[1] + "-" + strconv.FormatInt(hb.ID, 10),
			URL: base + "/download/" + nr + "/" + p.Name, File: p.Name, Format: FormatVMAZst,
			Checksum: sum, Algorithm: SHA256, ChecksumURL: base}, hb, nil
	}
	var names []string
	for _, p := range hb.BuildProducts {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return Build{}, hb, &MissingEntryError{OS: OSNixOS, Release: release, Serial: strconv.FormatInt(hb.ID, 10), URL: u,
		File: "vzdump-qemu-nixos-<version>.vma.zst", Files: names}
}
