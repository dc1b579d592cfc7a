package cloudimage_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/cloudimage"
	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
)

// TestOddAnswers: answers the stand-in does not give (a publisher that
// changed its layout, a failed Hydra build, a missing signature) are
// refused with the URL and the reason.
func TestOddAnswers(t *testing.T) {
	h64 := strings.Repeat("ab", 32)
	hydra := func(job string, status int, name, sum string) string {
		return `{"id":7,"finished":1,"buildstatus":` + strconv.Itoa(status) + `,"project":"nixos","jobset":"release-25.11","job":"` + job +
			`","buildproducts":{"1":{"name":"` + name + `","type":"file","subtype":"vma","sha256hash":"` + sum + `"}}}`
	}
	const job = "nixos.proxmoxImage.x86_64-linux"
	tests := []struct {
		name, os, release, serial string
		files                     map[string]string
		message                   string
	}{
		{"ubuntu listing without builds", cloudimage.OSUbuntu, "24.04", "", map[string]string{"/releases/noble/": "<html>nothing here</html>"},
			`the directory listing %s/releases/noble/ links no build`},
		{"debian listing without builds", cloudimage.OSDebian, "13", "", map[string]string{"/trixie/": `<a href="latest/">latest/</a>`},
			`the directory listing %s/trixie/ links no build`},
		{"ubuntu signature missing", cloudimage.OSUbuntu, "24.04", "20261120", map[string]string{"/releases/noble/release-20261120/SHA256SUMS": h64 + " *x\n"},
			`GET %s/releases/noble/release-20261120/SHA256SUMS.gpg (signature): 404 Not Found`},
		{"ubuntu signature that is not one", cloudimage.OSUbuntu, "24.04", "20261120", map[string]string{
			"/releases/noble/release-20261120/SHA256SUMS": h64 + " *x\n", "/releases/noble/release-20261120/SHA256SUMS.gpg": "hello"},
			`does not verify %s/releases/noble/release-20261120/SHA256SUMS against the pinned key D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81`},
		{"debian checksum file in another format", cloudimage.OSDebian, "13", "20261118-2301", map[string]string{"/trixie/20261118-2301/SHA512SUMS": h64 + "  x.qcow2\n"},
			`%s/trixie/20261118-2301/SHA512SUMS: line 1: "` + h64 + `" is not a sha512 sum`},
		{"hydra build failed", cloudimage.OSNixOS, "25.11", "", map[string]string{"/job/nixos/release-25.11/" + job + "/latest": hydra(job, 1, "vzdump-qemu-nixos-25.11.1.abcdef0.vma.zst", h64)},
			`Hydra build 7 (%s/job/nixos/release-25.11/` + job + `/latest) did not finish successfully`},
		{"hydra build of another job", cloudimage.OSNixOS, "25.11", "", map[string]string{"/job/nixos/release-25.11/" + job + "/latest": hydra("nixos.iso_minimal.x86_64-linux", 0, "x.iso", h64)},
			`is Hydra build 7 of nixos/release-25.11/nixos.iso_minimal.x86_64-linux, not of nixos/release-25.11/` + job},
		{"hydra sum not hex", cloudimage.OSNixOS, "25.11", "", map[string]string{"/job/nixos/release-25.11/" + job + "/latest": hydra(job, 0, "vzdump-qemu-nixos-25.11.1.abcdef0.vma.zst", "sha256-AAAA")},
			`product vzdump-qemu-nixos-25.11.1.abcdef0.vma.zst has sha256hash "sha256-AAAA", not 64 hex digits`},
		{"hydra answers HTML", cloudimage.OSNixOS, "25.11", "", map[string]string{"/job/nixos/release-25.11/" + job + "/latest": "<html>"},
			`GET %s/job/nixos/release-25.11/` + job + `/latest: not Hydra's build JSON`},
		{"hydra build holds another label", cloudimage.OSNixOS, "25.11", "25.11.2.abcdef1-7", map[string]string{"/build/7": hydra(job, 0, "vzdump-qemu-nixos-25.11.1.abcdef0.vma.zst", h64)},
			`Hydra build 7 is 25.11.1.abcdef0-7, not 25.11.2.abcdef1-7`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, ok := tt.files[r.URL.Path]
				if !ok {
					http.NotFound(w, r)
					return
				}
				_, _ = io.WriteString(w, body)
			}))
			defer srv.Close()
			r, err := cloudimage.NewResolver(cloudimage.WithBaseURL(tt.os, srv.URL), cloudimage.AllowPlainHTTP())
			require.NoError(t, err)
			var b cloudimage.Build
			if tt.serial == "" {
				b, err = r.Latest(t.Context(), tt.os, tt.release)
			} else {
				b, err = r.Build(t.Context(), tt.os, tt.release, tt.serial)
			}
			require.ErrorContains(t, err, strings.ReplaceAll(tt.message, "%s", srv.URL))
			require.Zero(t, b)
		})
	}
}

// TestOpenStalls: an image stream that stops moving ends after the idle
// limit with an error naming the host and the phase.
func TestOpenStalls(t *testing.T) {
	s := netxtest.New(t, netxtest.StallBody)
	r, err := cloudimage.NewResolver(cloudimage.WithTLSConfig(tlsFor(s)),
		cloudimage.WithTimeouts(netx.Timeouts{Idle: 200 * time.Millisecond, Overall: time.Millisecond}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	b := cloudimage.Build{OS: "nixos", Release: "25.11", Serial: "x-1", URL: s.URL() + "/image.vma.zst", Algorithm: cloudimage.SHA256, Checksum: strings.Repeat("0", 64)}
	rc, err := r.Open(ctx, b)
	if err == nil {
		defer rc.Close()
		_, err = io.ReadAll(rc)
	}
	require.NoError(t, ctx.Err(), "the hang guard ended the call, not the limit")
	netxtest.RequireLimit(t, err, s.Addr(), netx.PhaseBody, netx.LimitIdle)
	require.ErrorContains(t, err, "cloud image: nixos: GET "+s.URL()+"/image.vma.zst (image)")
}

// TestOpenRefusesIncompleteBuild: Open needs a Build from Latest or Build.
func TestOpenRefusesIncompleteBuild(t *testing.T) {
	r, err := cloudimage.NewResolver()
	require.NoError(t, err)
	for _, b := range []cloudimage.Build{
		{OS: "ubuntu", URL: "https://example.invalid/x.img", Algorithm: "md5", Checksum: strings.Repeat("0", 32)},
		{OS: "ubuntu", URL: "https://example.invalid/x.img", Algorithm: cloudimage.SHA256, Checksum: "abc"},
		{OS: "ubuntu", Algorithm: cloudimage.SHA512, Checksum: strings.Repeat("0", 128)},
	} {
		_, err := r.Open(t.Context(), b)
		require.ErrorContains(t, err, "use a Build from Latest or Build")
	}
}

// TestHydraTwoProducts: a Hydra build with two VMA products resolves to the
// first by product number, every time.
func TestHydraTwoProducts(t *testing.T) {
	h64, h64b := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	body := `{"id":9,"finished":1,"buildstatus":0,"project":"nixos","jobset":"release-25.11","job":"nixos.proxmoxImage.x86_64-linux","buildproducts":{` +
		`"10":{"name":"vzdump-qemu-nixos-25.11.1.abcdef0.vma.zst","type":"file","sha256hash":"` + h64b + `"},` +
		`"2":{"name":"vzdump-qemu-nixos-25.11.1.abcdef0.vma.zst","type":"file","sha256hash":"` + h64 + `"}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }))
	defer srv.Close()
	r, err := cloudimage.NewResolver(cloudimage.WithBaseURL(cloudimage.OSNixOS, srv.URL), cloudimage.AllowPlainHTTP())
	require.NoError(t, err)
	for range 20 {
		b, err := r.Build(t.Context(), cloudimage.OSNixOS, "25.11", "25.11.1.abcdef0-9")
		require.NoError(t, err)
		require.Equal(t, srv.URL+"/build/9/download/2/vzdump-qemu-nixos-25.11.1.abcdef0.vma.zst", b.URL)
		require.Equal(t, h64, b.Checksum)
	}
}
