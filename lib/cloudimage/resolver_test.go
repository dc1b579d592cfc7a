package cloudimage_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/distsim"
	"github.com/wdiazux/infra/lib/cloudimage"
	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
)

var releases = map[string]string{
	cloudimage.OSUbuntu: "24.04", cloudimage.OSDebian: "13", cloudimage.OSArch: "rolling", cloudimage.OSNixOS: "25.11",
}

func newSim(t *testing.T, opts ...distsim.Option) (*distsim.Sim, *cloudimage.Resolver) {
	t.Helper()
	sim, err := distsim.New(opts...)
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	r, err := cloudimage.NewResolver(sim.ResolverOptions()...)
	require.NoError(t, err)
	return sim, r
}

func sumOf(algo string, b []byte) string {
	if algo == cloudimage.SHA512 {
		s := sha512.Sum512(b)
		return hex.EncodeToString(s[:])
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestLatestAndBuild: each OS's newest build is resolved to a concrete
// serial, with the publisher's file names, the sum the publisher lists for
// the served image and the signer; Build of that serial gives the same; a
// newer build moves Latest and the older one stays resolvable.
func TestLatestAndBuild(t *testing.T) {
	for _, tls := range []bool{false, true} {
		var opts []distsim.Option
		name := "http"
		if tls {
			opts, name = append(opts, distsim.WithTLS()), "https"
		}
		sim, r := newSim(t, opts...)
		want := map[string]struct{ file, format, algo, sums, signed string }{
			cloudimage.OSUbuntu: {"ubuntu-24.04-server-cloudimg-amd64.img", "qcow2", "sha256", "/ubuntu/releases/noble/release-%s/SHA256SUMS", sim.Fingerprint()},
			cloudimage.OSDebian: {"debian-13-genericcloud-amd64-%s.qcow2", "qcow2", "sha512", "/debian/images/cloud/trixie/%s/SHA512SUMS", ""},
			cloudimage.OSArch:   {"Arch-Linux-x86_64-cloudimg-%s.qcow2", "qcow2", "sha256", "/arch/images/v%s/Arch-Linux-x86_64-cloudimg-%s.qcow2.SHA256", sim.Fingerprint()},
			cloudimage.OSNixOS:  {"vzdump-qemu-nixos-%s.vma.zst", "vma.zst", "sha256", "/nixos/build/%s", ""},
		}
		for _, osName := range cloudimage.OSes() {
			t.Run(name+"/"+osName, func(t *testing.T) {
				ctx := t.Context()
				w := want[osName]
				b, err := r.Latest(ctx, osName, releases[osName])
				require.NoError(t, err)
				serial := sim.Latest(osName)
				require.Equal(t, serial, b.Serial)
				label, id := serial, serial
				if osName == cloudimage.OSNixOS {
					label, id = serial[:strings.LastIndex(serial, "-")], serial[strings.LastIndex(serial, "-")+1:]
				}
				require.Equal(t, strings.ReplaceAll(w.file, "%s", label), b.File)
				require.Equal(t, w.format, b.Format)
				require.Equal(t, w.algo, b.Algorithm)
				require.Equal(t, sim.URL()+strings.ReplaceAll(w.sums, "%s", id), b.ChecksumURL)
				require.Equal(t, w.signed, b.SignedBy)
				require.Equal(t, w.signed != "", b.SignatureURL != "")
				require.Equal(t, sumOf(b.Algorithm, sim.Image(osName, serial)), b.Checksum)
				require.True(t, strings.HasSuffix(b.URL, "/"+b.File), b.URL)
				require.NotContains(t, b.URL, "latest")
				require.NotContains(t, b.URL, "/release/")

				again, err := r.Build(ctx, osName, releases[osName], serial)
				require.NoError(t, err)
				require.Equal(t, b, again)

				newer, err := sim.Publish(osName)
				require.NoError(t, err)
				nb, err := r.Latest(ctx, osName, releases[osName])
				require.NoError(t, err)
				require.Equal(t, newer, nb.Serial)
				require.NotEqual(t, b.Checksum, nb.Checksum)
				old, err := r.Build(ctx, osName, releases[osName], serial)
				require.NoError(t, err)
				require.Equal(t, b, old)
			})
		}
	}
}

// TestOpen streams each image and checks it at EOF; bytes that differ from
// the sum end in ErrChecksumMismatch.
func TestOpen(t *testing.T) {
	sim, r := newSim(t)
	for _, osName := range cloudimage.OSes() {
		t.Run(osName, func(t *testing.T) {
			b, err := r.Latest(t.Context(), osName, releases[osName])
			require.NoError(t, err)
			rc, err := r.Open(t.Context(), b)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			require.NoError(t, err)
			require.NoError(t, rc.Close())
			require.Equal(t, sim.Image(osName, b.Serial), got)

			require.NoError(t, sim.SetTamper(osName, distsim.TamperImage))
			t.Cleanup(func() { require.NoError(t, sim.SetTamper(osName, distsim.TamperNone)) })
			rc, err = r.Open(t.Context(), b)
			require.NoError(t, err)
			_, err = io.ReadAll(rc)
			require.ErrorIs(t, err, cloudimage.ErrChecksumMismatch)
			var ce *cloudimage.ChecksumError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, b.URL, ce.URL)
			require.Equal(t, b.Checksum, ce.Want)
			require.Equal(t, int64(len(got)), ce.Bytes)
			require.ErrorContains(t, err, "do not use it")
			_, err = rc.Read(make([]byte, 1))
			require.ErrorIs(t, err, cloudimage.ErrChecksumMismatch, "the error sticks")
			require.NoError(t, rc.Close())
		})
	}
}

// TestRefused: every way a publisher's answer can be wrong stops before a
// Build is returned, with a typed error naming the URL and what to do.
func TestRefused(t *testing.T) {
	sim, r := newSim(t)
	u := sim.URL()
	tests := []struct {
		name    string
		os      string
		tamper  distsim.Tamper
		latest  bool // via Latest (else Build of the current serial)
		check   func(t *testing.T, err error, serial string)
		message string
	}{
		{"ubuntu checksum file changed after signing", cloudimage.OSUbuntu, distsim.TamperSumsAfterSigning, true, bad(cloudimage.ErrBadSignature),
			u + "/ubuntu/releases/noble/release-%s/SHA256SUMS.gpg does not verify " + u + "/ubuntu/releases/noble/release-%s/SHA256SUMS against the pinned key"},
		{"ubuntu signed by another key", cloudimage.OSUbuntu, distsim.TamperOtherKey, false, bad(cloudimage.ErrUnknownKey), "signed by a key that is not pinned"},
		{"ubuntu image missing from SHA256SUMS", cloudimage.OSUbuntu, distsim.TamperMissingEntry, true, missing("ubuntu-24.04-server-cloudimg-amd64.img"),
			u + "/ubuntu/releases/noble/release-%s/SHA256SUMS has no entry for ubuntu-24.04-server-cloudimg-amd64.img"},
		{"arch .SHA256 changed after signing (latest)", cloudimage.OSArch, distsim.TamperSumsAfterSigning, true, bad(cloudimage.ErrBadSignature),
			u + "/arch/images/latest/Arch-Linux-x86_64-cloudimg.qcow2.SHA256.sig does not verify"},
		{"arch .SHA256 changed after signing (build)", cloudimage.OSArch, distsim.TamperSumsAfterSigning, false, bad(cloudimage.ErrBadSignature),
			u + "/arch/images/v%s/Arch-Linux-x86_64-cloudimg-%s.qcow2.SHA256.sig does not verify"},
		{"arch signed by another key", cloudimage.OSArch, distsim.TamperOtherKey, true, bad(cloudimage.ErrUnknownKey), "(signature names key "},
		{"arch image missing from .SHA256", cloudimage.OSArch, distsim.TamperMissingEntry, false, missing("Arch-Linux-x86_64-cloudimg-%s.qcow2"), "has no entry for"},
		{"debian image missing from SHA512SUMS", cloudimage.OSDebian, distsim.TamperMissingEntry, true, missing("debian-13-genericcloud-amd64-%s.qcow2"),
			u + "/debian/images/cloud/trixie/%s/SHA512SUMS has no entry for debian-13-genericcloud-amd64-%s.qcow2"},
		{"nixos build without a VMA", cloudimage.OSNixOS, distsim.TamperMissingEntry, true, missing("vzdump-qemu-nixos-<version>.vma.zst"), "has no entry for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, sim.SetTamper(tt.os, tt.tamper))
			defer func() { require.NoError(t, sim.SetTamper(tt.os, distsim.TamperNone)) }()
			serial := sim.Latest(tt.os)
			var b cloudimage.Build
			var err error
			if tt.latest {
				b, err = r.Latest(t.Context(), tt.os, releases[tt.os])
			} else {
				b, err = r.Build(t.Context(), tt.os, releases[tt.os], serial)
			}
			require.Error(t, err)
			require.Zero(t, b, "nothing is returned from a refused build")
			msg := strings.ReplaceAll(tt.message, "%s", serial)
			if tt.os == cloudimage.OSNixOS {
				msg = strings.ReplaceAll(tt.message, "%s", serial[strings.LastIndex(serial, "-")+1:])
			}
			require.ErrorContains(t, err, msg)
			tt.check(t, err, serial)
		})
	}
}

// bad checks a *SignatureError with the given cause, naming the pinned key.
func bad(cause error) func(t *testing.T, err error, serial string) {
	return func(t *testing.T, err error, _ string) {
		var se *cloudimage.SignatureError
		require.ErrorAs(t, err, &se)
		require.ErrorIs(t, err, cause)
		require.Len(t, se.Pinned, 1)
		require.NotEmpty(t, se.Issuer, "the signature's issuer is named")
		require.ErrorContains(t, err, "nothing from this build is trusted")
	}
}

// missing checks a *MissingEntryError for the file.
func missing(file string) func(t *testing.T, err error, serial string) {
	return func(t *testing.T, err error, serial string) {
		var me *cloudimage.MissingEntryError
		require.ErrorAs(t, err, &me)
		require.ErrorIs(t, err, cloudimage.ErrMissingEntry)
		require.Equal(t, strings.ReplaceAll(file, "%s", serial), me.File)
		require.NotEmpty(t, me.URL)
	}
}

// TestUnsignedTamperCaughtAtOpen: Debian and NixOS sign nothing, so a sum
// changed on their site is not detectable when resolving; it is caught when
// the bytes are read (by Open here, by PVE's checksum check on download).
func TestUnsignedTamperCaughtAtOpen(t *testing.T) {
	sim, r := newSim(t)
	for _, osName := range []string{cloudimage.OSDebian, cloudimage.OSNixOS} {
		t.Run(osName, func(t *testing.T) {
			require.NoError(t, sim.SetTamper(osName, distsim.TamperSumsAfterSigning))
			b, err := r.Latest(t.Context(), osName, releases[osName])
			require.NoError(t, err)
			require.Empty(t, b.SignedBy)
			require.NotEqual(t, sumOf(b.Algorithm, sim.Image(osName, b.Serial)), b.Checksum)
			rc, err := r.Open(t.Context(), b)
			require.NoError(t, err)
			defer rc.Close()
			_, err = io.ReadAll(rc)
			require.ErrorIs(t, err, cloudimage.ErrChecksumMismatch)
			require.ErrorIs(t, sim.SetTamper(osName, distsim.TamperOtherKey), distsim.ErrUnsigned)
		})
	}
}

// TestInputRefused: unknown OSes, releases and malformed serials are refused
// without a request; a build the publisher does not serve is a 404 naming
// the URL.
func TestInputRefused(t *testing.T) {
	sim, r := newSim(t)
	tests := []struct {
		name, os, release, serial string
		target                    error
		message                   string
	}{
		{"unknown OS", "gentoo", "1", "", cloudimage.ErrUnknownOS, `unknown OS "gentoo": known OSes are arch, debian, nixos, ubuntu`},
		{"unknown release", cloudimage.OSUbuntu, "22.04", "", cloudimage.ErrUnknownRelease, `ubuntu: unknown release "22.04": this package resolves 24.04`},
		{"unknown debian release", cloudimage.OSDebian, "12", "20261101-2301", cloudimage.ErrUnknownRelease, `resolves 13`},
		{"ubuntu serial", cloudimage.OSUbuntu, "24.04", "2026-11-01", cloudimage.ErrBadSerial, `"2026-11-01": the publisher names builds like 20261120`},
		{"debian serial", cloudimage.OSDebian, "13", "latest", cloudimage.ErrBadSerial, `like 20261118-2301`},
		{"arch serial", cloudimage.OSArch, "rolling", "../v1", cloudimage.ErrBadSerial, `like 20261101.412345`},
		{"nixos serial", cloudimage.OSNixOS, "25.11", "312345678", cloudimage.ErrBadSerial, `<version label>-<Hydra build id>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(sim.Requests())
			var err error
			if tt.serial == "" {
				_, err = r.Latest(t.Context(), tt.os, tt.release)
			} else {
				_, err = r.Build(t.Context(), tt.os, tt.release, tt.serial)
			}
			require.ErrorIs(t, err, tt.target)
			require.ErrorContains(t, err, tt.message)
			require.Len(t, sim.Requests(), before, "refused before any request")
		})
	}

	gone := map[string]string{
		cloudimage.OSUbuntu: "19991231", cloudimage.OSDebian: "19991231-1", cloudimage.OSArch: "19991231.1", cloudimage.OSNixOS: "25.11.1.abcdef0-1",
	}
	for _, osName := range cloudimage.OSes() {
		t.Run("gone/"+osName, func(t *testing.T) {
			_, err := r.Build(t.Context(), osName, releases[osName], gone[osName])
			var he *cloudimage.HTTPError
			require.ErrorAs(t, err, &he)
			require.Equal(t, 404, he.StatusCode)
			require.Contains(t, he.URL, sim.URL())
			require.ErrorContains(t, err, "the publisher does not serve this (any more): choose another build")
		})
	}
}

// TestUnsignedNeedsTLS: a publisher that signs nothing is refused over plain
// HTTP unless AllowPlainHTTP says it is a stand-in.
func TestUnsignedNeedsTLS(t *testing.T) {
	for _, osName := range []string{cloudimage.OSDebian, cloudimage.OSNixOS} {
		_, err := cloudimage.NewResolver(cloudimage.WithBaseURL(osName, "http://127.0.0.1:1/x"))
		require.ErrorIs(t, err, cloudimage.ErrInsecureSource)
		require.ErrorContains(t, err, "use an https base URL")
		_, err = cloudimage.NewResolver(cloudimage.WithBaseURL(osName, "http://127.0.0.1:1/x"), cloudimage.AllowPlainHTTP())
		require.NoError(t, err)
	}
	_, err := cloudimage.NewResolver(cloudimage.WithBaseURL(cloudimage.OSUbuntu, "http://127.0.0.1:1/x"))
	require.NoError(t, err, "a signed publisher may be read over http: the signature carries the trust")
	_, err = cloudimage.NewResolver(cloudimage.WithBaseURL(cloudimage.OSArch, "ftp://mirror/images"))
	require.ErrorContains(t, err, `arch: base URL "ftp://mirror/images" is not an http(s) URL`)
	_, err = cloudimage.NewResolver(cloudimage.WithBaseURL("gentoo", "https://example.org"))
	require.ErrorIs(t, err, cloudimage.ErrUnknownOS)
}

// TestTimeLimits: a publisher that accepts and never answers ends the call
// within lib/netx's limit, with an error naming the host and the phase.
func TestTimeLimits(t *testing.T) {
	s := netxtest.New(t, netxtest.SilentAfterRequest)
	for _, osName := range cloudimage.OSes() {
		t.Run(osName, func(t *testing.T) {
			r, err := cloudimage.NewResolver(cloudimage.WithBaseURL(osName, s.URL()),
				cloudimage.WithTLSConfig(tlsFor(s)), cloudimage.AllowPlainHTTP(), cloudimage.WithTimeouts(netx.Timeouts{ResponseHeader: 50 * time.Millisecond}))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			_, err = r.Latest(ctx, osName, releases[osName])
			require.NoError(t, ctx.Err(), "the hang guard ended the call, not the limit")
			netxtest.RequireLimit(t, err, s.Addr(), netx.PhaseResponseHeader, netx.LimitResponseHeader)
			require.ErrorContains(t, err, "cloud image: "+osName+": GET "+s.URL()+"/")
		})
	}
}

func tlsFor(s *netxtest.Server) *tls.Config {
	return &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}
}

// TestProvenance names the checksum file and the signer, or the host whose
// TLS the sum rests on.
func TestProvenance(t *testing.T) {
	sim, r := newSim(t, distsim.WithTLS())
	host := strings.TrimPrefix(sim.URL(), "https://")
	want := map[string]string{
		cloudimage.OSUbuntu: "sha256 from SHA256SUMS, signed by " + sim.Fingerprint(),
		cloudimage.OSArch:   "sha256 from Arch-Linux-x86_64-cloudimg-%s.qcow2.SHA256, signed by " + sim.Fingerprint(),
		cloudimage.OSDebian: "sha512 from SHA512SUMS over TLS from " + host + " (the publisher signs nothing)",
		cloudimage.OSNixOS:  "sha256 from Hydra build %s over TLS from " + host + " (the publisher signs nothing)",
	}
	for _, osName := range cloudimage.OSes() {
		b, err := r.Latest(t.Context(), osName, releases[osName])
		require.NoError(t, err)
		id := b.Serial[strings.LastIndex(b.Serial, "-")+1:]
		if osName != cloudimage.OSNixOS {
			id = b.Serial
		}
		require.Equal(t, strings.ReplaceAll(want[osName], "%s", id), b.Provenance(), osName)
	}
}

// TestConcurrentUse: one Resolver serves the parallel imports of "all".
func TestConcurrentUse(t *testing.T) {
	sim, r := newSim(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(cloudimage.OSes()))
	for range 4 {
		for _, osName := range cloudimage.OSes() {
			wg.Go(func() {
				b, err := r.Latest(t.Context(), osName, releases[osName])
				if err == nil && b.Serial != sim.Latest(osName) {
					err = fmt.Errorf("%s: got %s, want %s", osName, b.Serial, sim.Latest(osName))
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
