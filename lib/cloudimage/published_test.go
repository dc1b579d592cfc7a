package cloudimage_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/cloudimage"
)

// TestPublishedUbuntuRelease verifies a real SHA256SUMS and SHA256SUMS.gpg
// as Ubuntu published them (testdata/published/ubuntu-noble-release-20260725,
// see SOURCES.md) with the embedded, pinned key: the real key and a real
// signature verify, and the file changed by one byte does not.
func TestPublishedUbuntuRelease(t *testing.T) {
	sums, err := os.ReadFile("testdata/published/ubuntu-noble-release-20260725/SHA256SUMS")
	require.NoError(t, err)
	sig, err := os.ReadFile("testdata/published/ubuntu-noble-release-20260725/SHA256SUMS.gpg")
	require.NoError(t, err)
	serve := sums
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/releases/noble/release-20260725/SHA256SUMS":
			_, _ = w.Write(serve)
		case "/releases/noble/release-20260725/SHA256SUMS.gpg":
			_, _ = w.Write(sig)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	r, err := cloudimage.NewResolver(cloudimage.WithBaseURL(cloudimage.OSUbuntu, srv.URL))
	require.NoError(t, err)

	b, err := r.Build(t.Context(), cloudimage.OSUbuntu, "24.04", "20260725")
	require.NoError(t, err)
	require.Equal(t, cloudimage.Build{
		OS: "ubuntu", Release: "24.04", Serial: "20260725",
		URL:  srv.URL + "/releases/noble/release-20260725/ubuntu-24.04-server-cloudimg-amd64.img",
		File: "ubuntu-24.04-server-cloudimg-amd64.img", Format: "qcow2",
		Checksum: "d1940f7d69d343355e183dff1e08a59852d32e7309baa7a4bad8365b11b005ac", Algorithm: "sha256",
		ChecksumURL:  srv.URL + "/releases/noble/release-20260725/SHA256SUMS",
		SignatureURL: srv.URL + "/releases/noble/release-20260725/SHA256SUMS.gpg",
		SignedBy:     cloudimage.UbuntuFingerprint,
	}, b)

	serve = bytes.Replace(sums, []byte("d1940f7d"), []byte("d1940f7e"), 1)
	_, err = r.Build(t.Context(), cloudimage.OSUbuntu, "24.04", "20260725")
	require.ErrorIs(t, err, cloudimage.ErrBadSignature)
	var se *cloudimage.SignatureError
	require.ErrorAs(t, err, &se)
	require.Equal(t, cloudimage.UbuntuFingerprint, se.Issuer)
}
