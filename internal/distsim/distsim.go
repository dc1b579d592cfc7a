package distsim

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/klauspost/compress/zstd"

	"github.com/wdiazux/infra/internal/vmagen"
	"github.com/wdiazux/infra/lib/cloudimage"
	"github.com/wdiazux/infra/lib/diskimage"
)

// Tamper is a way a site misbehaves.
type Tamper int

// Tamper modes.
const (
	// TamperNone serves the site as published.
	TamperNone Tamper = iota
	// TamperSumsAfterSigning changes the image's sum in the checksum file
	// after the file was signed (for NixOS: Hydra's sha256hash).
	TamperSumsAfterSigning
	// TamperOtherKey signs the checksum file with another key (signed sites
	// only).
	TamperOtherKey
	// TamperMissingEntry leaves the image out of the (signed) checksum file
	// (for NixOS: the build has no VMA product).
	TamperMissingEntry
	// TamperImage serves image bytes that differ from the published sum.
	TamperImage
)

// String names the mode.
func (t Tamper) String() string {
	return [...]string{"none", "sums-after-signing", "other-key", "missing-entry", "image"}[t]
}

// ErrUnsigned is a tamper mode that needs a signature, asked of a site that
// signs nothing.
var ErrUnsigned = errors.New("the site signs nothing")

// Option configures a Sim.
type Option func(*config)

type config struct {
	tls       bool
	bandwidth int64
	payload   int
	virtual   int64
}

// WithTLS serves HTTPS with a certificate for 127.0.0.1 (ResolverOptions
// trusts it).
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithBandwidth limits every connection to bytesPerSecond of answer bytes.
func WithBandwidth(bytesPerSecond int64) Option {
	return func(c *config) { c.bandwidth = bytesPerSecond }
}

// WithImageData sets how many bytes of (non-zero) data each image holds
// (default 64 KiB), e.g. to make transfers take measurable time.
func WithImageData(n int) Option { return func(c *config) { c.payload = n } }

// build is one published build.
type build struct {
	serial string
	id     int64 // Hydra build id (NixOS)
	label  string
	image  []byte
}

// Sim is the stand-in.
type Sim struct {
	srv        *httptest.Server
	cfg        config
	key, other *openpgp.Entity

	mu       sync.Mutex
	builds   map[string][]build
	tamper   map[string]Tamper
	files    map[string][]byte
	requests []string
}

// Prefixes of the four sites below the Sim's URL.
func sitePrefix(os string) string {
	switch os {
	case cloudimage.OSUbuntu:
		return "/ubuntu"
	case cloudimage.OSDebian:
		return "/debian/images/cloud"
	case cloudimage.OSArch:
		return "/arch/images"
	case cloudimage.OSNixOS:
		return "/nixos"
	}
	return ""
}

// New starts a Sim with one build of each OS.
func New(opts ...Option) (*Sim, error) {
	cfg := config{payload: 64 << 10, virtual: 64 << 20}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.payload <= 0 || int64(cfg.payload) > cfg.virtual {
		return nil, fmt.Errorf("distsim: image data of %d bytes must be in (0, %d]", cfg.payload, cfg.virtual)
	}
	pc := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: time.Now}
	key, err := openpgp.NewEntity("distsim", "test key", "distsim@localhost", pc)
	if err != nil {
		return nil, fmt.Errorf("distsim: generate key: %w", err)
	}
	other, err := openpgp.NewEntity("distsim-other", "not the pinned key", "other@localhost", pc)
	if err != nil {
		return nil, fmt.Errorf("distsim: generate key: %w", err)
	}
	s := &Sim{cfg: cfg, key: key, other: other, builds: map[string][]build{}, tamper: map[string]Tamper{}, files: map[string][]byte{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if cfg.bandwidth > 0 {
		s.srv.Listener = &limitedListener{Listener: s.srv.Listener, rate: cfg.bandwidth}
	}
	if cfg.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	for _, os := range cloudimage.OSes() {
		if _, err := s.Publish(os); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close stops the server.
func (s *Sim) Close() { s.srv.Close() }

// URL is the server's address.
func (s *Sim) URL() string { return s.srv.URL }

// BaseURL is the stand-in for an OS's publisher (cloudimage.WithBaseURL).
func (s *Sim) BaseURL(os string) string { return s.srv.URL + sitePrefix(os) }

// Key returns the armored public key that signs the Ubuntu and Arch
// checksum files.
func (s *Sim) Key() []byte {
	var b bytes.Buffer
	w, _ := armor.Encode(&b, openpgp.PublicKeyType, nil)
	_ = s.key.Serialize(w)
	_ = w.Close()
	return b.Bytes()
}

// Fingerprint is the signing key's fingerprint.
func (s *Sim) Fingerprint() string { return cloudimage.Fingerprint(s.key) }

// TLSConfig trusts the server's certificate (nil without WithTLS).
func (s *Sim) TLSConfig() *tls.Config {
	if !s.cfg.tls {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// ResolverOptions point a cloudimage.Resolver at the Sim: every base URL,
// the Sim's key for Ubuntu and Arch, and its certificate (or, over plain
// HTTP, AllowPlainHTTP for the unsigned sites).
func (s *Sim) ResolverOptions() []cloudimage.Option {
	var opts []cloudimage.Option
	for _, os := range cloudimage.OSes() {
		opts = append(opts, cloudimage.WithBaseURL(os, s.BaseURL(os)))
	}
	opts = append(opts,
		cloudimage.WithKey(cloudimage.OSUbuntu, s.Key(), s.Fingerprint()),
		cloudimage.WithKey(cloudimage.OSArch, s.Key(), s.Fingerprint()))
	if c := s.TLSConfig(); c != nil {
		return append(opts, cloudimage.WithTLSConfig(c))
	}
	return append(opts, cloudimage.AllowPlainHTTP())
}

// Latest is the serial of an OS's newest build.
func (s *Sim) Latest(os string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.builds[os]
	if len(b) == 0 {
		return ""
	}
	return b[len(b)-1].serial
}

// Image returns the bytes a build's image holds as published (before
// TamperImage), nil for an unknown build.
func (s *Sim) Image(os, serial string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.builds[os] {
		if b.serial == serial {
			return bytes.Clone(b.image)
		}
	}
	return nil
}

// Requests returns the requests served so far, as "GET /path".
func (s *Sim) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// SetTamper makes an OS's site misbehave (TamperNone restores it).
func (s *Sim) SetTamper(os string, t Tamper) error {
	if sitePrefix(os) == "" {
		return fmt.Errorf("distsim: unknown OS %q", os)
	}
	if t == TamperOtherKey && cloudimage.PinnedFingerprints(os) == nil {
		return fmt.Errorf("distsim: %s: %w, so it cannot be signed by another key", os, ErrUnsigned)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamper[os] = t
	return s.render(os)
}

// Publish adds a build newer than every other of that OS and returns its
// serial.
func (s *Sim) Publish(os string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.builds[os])
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n).Format("20060102")
	var b build
	switch os {
	case cloudimage.OSUbuntu:
		b.serial = day
	case cloudimage.OSDebian:
		b.serial = fmt.Sprintf("%s-%d", day, 2301+n)
	case cloudimage.OSArch:
		b.serial = fmt.Sprintf("%s.%d", day, 412345+n)
	case cloudimage.OSNixOS:
		b.id = int64(312345678 + n)
		b.label = fmt.Sprintf("25.11.%d.%07x", 1234+n, 0xabcdef0+n)
		b.serial = fmt.Sprintf("%s-%d", b.label, b.id)
	default:
		return "", fmt.Errorf("distsim: unknown OS %q", os)
	}
	img, err := s.makeImage(os, b)
	if err != nil {
		return "", err
	}
	b.image = img
	s.builds[os] = append(s.builds[os], b)
	return b.serial, s.render(os)
}

// makeImage writes a build's image: a qcow2 whose data names the build, or
// for NixOS a zstd-compressed VMA with one such disk.
func (s *Sim) makeImage(os string, b build) ([]byte, error) {
	data := bytes.Repeat([]byte(fmt.Sprintf("%s %s ", os, b.serial)), s.cfg.payload/(len(os)+len(b.serial)+2)+1)[:s.cfg.payload]
	if os != cloudimage.OSNixOS {
		var buf bytes.Buffer
		if _, err := diskimage.WriteQCOW2(&buf, s.cfg.virtual, data); err != nil {
			return nil, fmt.Errorf("distsim: %s image: %w", os, err)
		}
		return buf.Bytes(), nil
	}
	conf := "# generated by NixOS\nagent: 1\nbios: seabios\nboot: \ncores: 1\nmemory: 1024\nname: nixos-" + b.label +
		"\nnet0: virtio=00:00:00:00:00:00,bridge=vmbr0,firewall=1\nostype: l26\nscsihw: virtio-scsi-pci\nserial0: socket\n" +
		"virtio0: local-lvm:vm-9999-disk-0\n#qmdump#map:virtio0:drive-virtio0:local-lvm:raw:\n"
	var raw bytes.Buffer
	vw, err := vmagen.NewWriter(&raw, [16]byte{0xd1, 0x57, 0x51, 0x3}, 1_790_000_000+b.id%1000,
		[]vmagen.Config{{Name: "qemu-server.conf", Data: []byte(conf)}}, []vmagen.Device{{Name: "drive-virtio0", Size: s.cfg.virtual}})
	if err != nil {
		return nil, fmt.Errorf("distsim: nixos image: %w", err)
	}
	for i := 0; i*vmagen.ClusterSize < len(data); i++ {
		c := make([]byte, vmagen.ClusterSize)
		copy(c, data[i*vmagen.ClusterSize:])
		if err := vw.WriteCluster(1, uint32(i), c); err != nil {
			return nil, fmt.Errorf("distsim: nixos image: %w", err)
		}
	}
	if err := vw.Close(); err != nil {
		return nil, fmt.Errorf("distsim: nixos image: %w", err)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	return enc.EncodeAll(raw.Bytes(), nil), nil
}
