package cloudimage

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/wdiazux/infra/lib/netx"
)

// The OSes this package resolves.
const (
	OSUbuntu = "ubuntu"
	OSDebian = "debian"
	OSArch   = "arch"
	OSNixOS  = "nixos"
)

// OSes lists the OSes this package resolves.
func OSes() []string { return []string{OSArch, OSDebian, OSNixOS, OSUbuntu} }

// Image formats.
const (
	FormatQCOW2  = "qcow2"
	FormatVMAZst = "vma.zst"
)

// Build is one concrete, verified build of a distribution's cloud image.
type Build struct {
	OS, Release string // "ubuntu", "24.04"
	// Serial is the publisher's build name: "20261120" (Ubuntu),
	// "20261118-2301" (Debian), "20261101.412345" (Arch),
	// "25.11.1234.abcdef0-312345678" (NixOS: the image's version label and
	// the Hydra build that made it).
	Serial string
	// URL is the image itself, a concrete build (never a "latest" alias).
	URL string
	// File is the publisher's file name.
	File string
	// Format is FormatQCOW2 or FormatVMAZst.
	Format string
	// Checksum is the publisher's sum, lower-case hex.
	Checksum string
	// Algorithm is SHA256 or SHA512.
	Algorithm string
	// ChecksumURL is the file the sum was read from.
	ChecksumURL string
	// SignatureURL is the detached signature verified over ChecksumURL; ""
	// where the publisher signs nothing.
	SignatureURL string
	// SignedBy is the fingerprint of the key whose signature was verified;
	// "" only where the publisher signs nothing (then the sum came over
	// verified TLS from the publisher).
	SignedBy string
}

// Resolver finds and verifies the builds of the publishers' cloud images.
type Resolver struct {
	http      *http.Client
	timeouts  netx.Timeouts
	tls       *tls.Config
	log       *slog.Logger
	plainHTTP bool
	bases     map[string]string
	keys      map[string]keySpec
	rings     map[string]openpgp.EntityList
}

type keySpec struct {
	armored []byte
	pins    []string
	source  string
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithBaseURL points an OS's publisher at another base URL (a mirror or the
// loopback stand-in): the paths below it are the publisher's own. The
// defaults are DefaultBaseURL's.
func WithBaseURL(os, base string) Option {
	return func(r *Resolver) { r.bases[os] = strings.TrimSuffix(base, "/") }
}

// WithKey replaces an OS's pinned signing key with an armored public key and
// its fingerprint (for tests: a key made by the stand-in). The key must have
// exactly that fingerprint.
func WithKey(os string, armored []byte, fingerprint string) Option {
	return func(r *Resolver) {
		r.keys[os] = keySpec{armored: armored, pins: []string{normalizeFingerprint(fingerprint)}, source: "WithKey"}
	}
}

// WithHTTPClient sets the HTTP client, whose time limits are then its own
// (default: lib/netx's client with the limits of WithTimeouts).
func WithHTTPClient(c *http.Client) Option { return func(r *Resolver) { r.http = c } }

// WithTimeouts sets the time limits of the requests (zero fields take
// netx's defaults). Image streams (Open) have no overall limit, only Idle.
func WithTimeouts(t netx.Timeouts) Option { return func(r *Resolver) { r.timeouts = t } }

// WithTLSConfig sets the TLS configuration of the default client (e.g. a
// test CA for the loopback stand-in).
func WithTLSConfig(c *tls.Config) Option { return func(r *Resolver) { r.tls = c } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(r *Resolver) { r.log = l } }

// AllowPlainHTTP lets publishers that sign nothing (Debian's cloud images,
// NixOS) be read over plain HTTP. Their sums then rest on nothing, so this is
// for a loopback stand-in only; without it such a base URL must be https.
func AllowPlainHTTP() Option { return func(r *Resolver) { r.plainHTTP = true } }

// DefaultBaseURL returns the publisher's base URL for an OS.
func DefaultBaseURL(os string) string {
	switch os {
	case OSUbuntu:
		return "https://cloud-images.ubuntu.com"
	case OSDebian:
		return "https://cloud.debian.org/images/cloud"
	case OSArch:
		return "https://geo.mirror.pkgbuild.com/images"
	case OSNixOS:
		return "https://hydra.nixos.org"
	}
	return ""
}

// NewResolver returns a resolver of the four publishers. It refuses an
// embedded or replaced key whose fingerprint is not the pinned one, an option
// naming an unknown OS, and a base URL that is not http(s).
func NewResolver(opts ...Option) (*Resolver, error) {
	r := &Resolver{log: slog.New(slog.DiscardHandler), bases: map[string]string{}, keys: map[string]keySpec{}, rings: map[string]openpgp.EntityList{}}
	for _, os := range OSes() {
		r.bases[os] = DefaultBaseURL(os)
		if pins := PinnedFingerprints(os); pins != nil {
			r.keys[os] = keySpec{armored: EmbeddedKey(os), pins: pins, source: "keys/" + os + ".asc"}
		}
	}
	for _, opt := range opts {
		opt(r)
	}
	for os, base := range r.bases {
		if !slices.Contains(OSes(), os) {
			return nil, &UnknownError{OS: os, Known: OSes(), Err: ErrUnknownOS}
		}
		u, err := url.Parse(base)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("cloud image: %s: base URL %q is not an http(s) URL", os, base)
		}
		if u.Scheme == "http" && PinnedFingerprints(os) == nil && !r.plainHTTP {
			return nil, fmt.Errorf("cloud image: %s: %w: %s publishes no signature, so its sums are trusted only over verified TLS; use an https base URL instead of %s",
				os, ErrInsecureSource, os, base)
		}
	}
	for os, k := range r.keys {
		if !slices.Contains(OSes(), os) {
			return nil, &UnknownError{OS: os, Known: OSes(), Err: ErrUnknownOS}
		}
		if PinnedFingerprints(os) == nil {
			return nil, &KeyError{OS: os, Source: k.source, Err: fmt.Errorf("%s publishes no OpenPGP signature for its images, so a key for it would never be used", os)}
		}
		ring, err := loadKeyring(os, k.source, k.armored, k.pins)
		if err != nil {
			return nil, err
		}
		r.rings[os] = ring
	}
	if r.http == nil {
		var nopts []netx.Option
		if r.tls != nil {
			nopts = append(nopts, netx.WithTLSConfig(r.tls))
		}
		r.http = netx.NewClient(r.timeouts, append(nopts, netx.WithLogger(r.log))...)
	}
	return r, nil
}

// publisher is one distribution's layout.
type publisher interface {
	// releases lists the releases it resolves.
	releases() []string
	// latest returns the serial of the newest build.
	latest(ctx context.Context, r *Resolver, release string) (string, error)
	// build finds and verifies one build.
	build(ctx context.Context, r *Resolver, release, serial string) (Build, error)
}

func (r *Resolver) publisher(os, release string) (publisher, error) {
	var p publisher
	switch os {
	case OSUbuntu:
		p = ubuntu()
	case OSDebian:
		p = debian()
	case OSArch:
		p = arch{}
	case OSNixOS:
		p = nixos{}
	default:
		return nil, &UnknownError{OS: os, Release: release, Known: OSes(), Err: ErrUnknownOS}
	}
	if !slices.Contains(p.releases(), release) {
		return nil, &UnknownError{OS: os, Release: release, Known: p.releases(), Err: ErrUnknownRelease}
	}
	return p, nil
}

// Latest resolves the newest build of an OS release to a concrete serial and
// returns it verified (as Build does).
func (r *Resolver) Latest(ctx context.Context, os, release string) (Build, error) {
	p, err := r.publisher(os, release)
	if err != nil {
		return Build{}, err
	}
	serial, err := p.latest(ctx, r, release)
	if err != nil {
		return Build{}, err
	}
	return p.build(ctx, r, release, serial)
}

// Build returns a known build (from images.lock), verified: the checksum
// file is fetched, its detached signature checked against the pinned key(s)
// (where the publisher signs), and the image's sum taken from it.
func (r *Resolver) Build(ctx context.Context, os, release, serial string) (Build, error) {
	p, err := r.publisher(os, release)
	if err != nil {
		return Build{}, err
	}
	return p.build(ctx, r, release, serial)
}

// maxMeta bounds checksum files, signatures, listings and JSON answers.
const maxMeta = 8 << 20

// get fetches a small file under the client's limits.
func (r *Resolver) get(ctx context.Context, os, what, u string, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("cloud image: %s: %s URL %q: %w", os, what, u, err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	start := time.Now()
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cloud image: %s: GET %s (%s): %w", os, u, what, netx.WithoutURL(err))
	}
	defer resp.Body.Close()
	r.log.Debug("cloud image request", "os", os, "url", u, "status", resp.StatusCode, "took", time.Since(start).Round(time.Millisecond))
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{OS: os, URL: u, What: what, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMeta+1))
	if err != nil {
		return nil, fmt.Errorf("cloud image: %s: GET %s (%s): read answer: %w", os, u, what, netx.WithoutURL(err))
	}
	if len(b) > maxMeta {
		return nil, fmt.Errorf("cloud image: %s: GET %s (%s): answer larger than %d bytes; this is not the publisher's %s", os, u, what, maxMeta, what)
	}
	return b, nil
}

// sumsFile fetches a checksum file and, where the OS is signed, its
// detached signature, and verifies it. It returns the file, the signer's
// fingerprint ("" when unsigned) and the signature's URL.
func (r *Resolver) sumsFile(ctx context.Context, os, release, sumsURL, sigURL string) ([]byte, string, error) {
	sums, err := r.get(ctx, os, "checksum file", sumsURL, "")
	if err != nil {
		return nil, "", err
	}
	ring, signed := r.rings[os]
	if !signed {
		return sums, "", nil
	}
	sig, err := r.get(ctx, os, "signature", sigURL, "")
	if err != nil {
		return nil, "", err
	}
	signer, issuer, err := verifyDetached(ring, sums, sig)
	if err != nil {
		return nil, "", &SignatureError{OS: os, Release: release, URL: sumsURL, SignatureURL: sigURL, Pinned: r.keys[os].pins, Issuer: issuer, Err: err}
	}
	return sums, signer, nil
}

// entry takes the image's sum from a (verified) checksum file.
func entry(os, release, serial, sumsURL string, sums []byte, algo, file string) (string, error) {
	m, err := ParseSums(sums, algo)
	if err != nil {
		return "", fmt.Errorf("cloud image: %s %s build %s: %s: %w", os, release, serial, sumsURL, err)
	}
	if sum, ok := m[file]; ok {
		return sum, nil
	}
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) > 10 {
		names = append(names[:10], "…")
	}
	return "", &MissingEntryError{OS: os, Release: release, Serial: serial, URL: sumsURL, File: file, Files: names}
}

// Provenance says in one line what the build's sum rests on, for a record
// such as a VM's description: "sha256 from SHA256SUMS, signed by <fingerprint>"
// or "sha512 from SHA512SUMS over TLS from cloud.debian.org (the publisher
// signs nothing)".
func (b Build) Provenance() string {
	name, host := b.ChecksumURL, ""
	if u, err := url.Parse(b.ChecksumURL); err == nil {
		name, host = path.Base(u.Path), u.Host
	}
	if b.OS == OSNixOS {
		name = "Hydra build " + name
	}
	if b.SignedBy != "" {
		return fmt.Sprintf("%s from %s, signed by %s", b.Algorithm, name, b.SignedBy)
	}
	return fmt.Sprintf("%s from %s over TLS from %s (the publisher signs nothing)", b.Algorithm, name, host)
}
