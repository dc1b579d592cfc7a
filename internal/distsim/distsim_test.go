package distsim_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/distsim"
	"github.com/wdiazux/infra/lib/cloudimage"
	"github.com/wdiazux/infra/lib/diskimage"
	"github.com/wdiazux/infra/lib/vma"
)

func get(t *testing.T, c *http.Client, url string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// TestLayout: each site answers on the publisher's paths and file names.
func TestLayout(t *testing.T) {
	sim, err := distsim.New()
	require.NoError(t, err)
	defer sim.Close()
	u, c := sim.URL(), http.DefaultClient
	ub, de, ar, nx := sim.Latest("ubuntu"), sim.Latest("debian"), sim.Latest("arch"), sim.Latest("nixos")
	id := nx[strings.LastIndex(nx, "-")+1:]
	label := nx[:strings.LastIndex(nx, "-")]
	tests := []struct {
		path, ctype, contains string
	}{
		{"/ubuntu/releases/noble/", "text/html", `href="release-` + ub + `/"`},
		{"/ubuntu/releases/noble/release-" + ub + "/ubuntu-24.04-server-cloudimg-amd64.img", "application/octet-stream", "QFI\xfb"},
		{"/ubuntu/releases/noble/release-" + ub + "/SHA256SUMS", "application/octet-stream", " *ubuntu-24.04-server-cloudimg-amd64.img\n"},
		{"/ubuntu/releases/noble/release-" + ub + "/SHA256SUMS.gpg", "application/octet-stream", "-----BEGIN PGP SIGNATURE-----"},
		{"/ubuntu/releases/noble/release/SHA256SUMS", "application/octet-stream", "ubuntu-24.04-server-cloudimg-amd64.img"},
		{"/debian/images/cloud/trixie/", "text/html", `href="` + de + `/"`},
		{"/debian/images/cloud/trixie/" + de + "/debian-13-genericcloud-amd64-" + de + ".qcow2", "application/octet-stream", "QFI\xfb"},
		{"/debian/images/cloud/trixie/" + de + "/SHA512SUMS", "application/octet-stream", "  debian-13-genericcloud-amd64-" + de + ".qcow2\n"},
		{"/debian/images/cloud/trixie/latest/SHA512SUMS", "application/octet-stream", "  debian-13-genericcloud-amd64.qcow2\n"},
		{"/arch/images/v" + ar + "/Arch-Linux-x86_64-cloudimg-" + ar + ".qcow2", "application/octet-stream", "QFI\xfb"},
		{"/arch/images/v" + ar + "/Arch-Linux-x86_64-cloudimg-" + ar + ".qcow2.SHA256", "application/octet-stream", "  Arch-Linux-x86_64-cloudimg-" + ar + ".qcow2\n"},
		{"/arch/images/v" + ar + "/Arch-Linux-x86_64-cloudimg-" + ar + ".qcow2.sig", "application/octet-stream", ""},
		{"/arch/images/v" + ar + "/Arch-Linux-x86_64-cloudimg-" + ar + ".qcow2.SHA256.sig", "application/octet-stream", ""},
		{"/arch/images/latest/Arch-Linux-x86_64-cloudimg.qcow2.SHA256", "application/octet-stream", "  Arch-Linux-x86_64-cloudimg-" + ar + ".qcow2\n"},
		{"/nixos/job/nixos/release-25.11/nixos.proxmoxImage.x86_64-linux/latest", "application/json", `"id":` + id},
		{"/nixos/build/" + id, "application/json", `"name":"vzdump-qemu-nixos-` + label + `.vma.zst"`},
		{"/nixos/build/" + id + "/download/1/vzdump-qemu-nixos-" + label + ".vma.zst", "application/octet-stream", "\x28\xb5\x2f\xfd"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, ctype, body := get(t, c, u+tt.path)
			require.Equal(t, http.StatusOK, code)
			require.True(t, strings.HasPrefix(ctype, tt.ctype), ctype)
			require.NotEmpty(t, body)
			require.Contains(t, string(body), tt.contains)
		})
	}
	code, _, _ := get(t, c, u+"/ubuntu/releases/noble/release-19990101/SHA256SUMS")
	require.Equal(t, http.StatusNotFound, code)
	code, _, body := get(t, c, u+"/debian/images/cloud/trixie")
	require.Equal(t, http.StatusOK, code, "a directory without its slash redirects")
	require.Contains(t, string(body), "latest/")
	require.Contains(t, sim.Requests(), "GET /debian/images/cloud/trixie/")
	resp, err := c.Get(u + "/nixos/build/" + id)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), "Hydra answers HTML unless asked for JSON")
	reqs := sim.Requests()
	at := slices.Index(reqs, "GET /nixos/job/nixos/release-25.11/nixos.proxmoxImage.x86_64-linux/latest")
	require.GreaterOrEqual(t, at, 0)
	require.Equal(t, "GET /nixos/build/"+id, reqs[at+1], "the job's latest redirects to the build, as Hydra does")
}

// TestImages: the qcow2 images are valid qcow2, the NixOS image a zstd VMA
// that lib/vma reads, each holding data that names its build.
func TestImages(t *testing.T) {
	sim, err := distsim.New(distsim.WithImageData(100_000))
	require.NoError(t, err)
	defer sim.Close()
	for _, osName := range []string{"ubuntu", "debian", "arch"} {
		img := sim.Image(osName, sim.Latest(osName))
		info, err := diskimage.Inspect(bytes.NewReader(img), int64(len(img)), diskimage.QCOW2)
		require.NoError(t, err, osName)
		require.Equal(t, int64(64<<20), info.VirtualSize)
		require.Contains(t, string(img), osName+" "+sim.Latest(osName))
	}
	dec, err := zstd.NewReader(bytes.NewReader(sim.Image("nixos", sim.Latest("nixos"))))
	require.NoError(t, err)
	defer dec.Close()
	vr, err := vma.NewReader(dec)
	require.NoError(t, err)
	require.Len(t, vr.Configs(), 1)
	require.Equal(t, "qemu-server.conf", vr.Configs()[0].Name)
	require.Contains(t, string(vr.Configs()[0].Data), "#qmdump#map:virtio0:drive-virtio0:local-lvm:raw:")
	require.Equal(t, []vma.Device{{ID: 1, Name: "drive-virtio0", Size: 64 << 20}}, vr.Devices())
	var data []byte
	for {
		c, err := vr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data = append(data, c.Data...)
	}
	require.Len(t, data, 2*vma.ClusterSize, "100 000 bytes of data take two clusters")
	require.True(t, strings.HasPrefix(string(data), "nixos "+sim.Latest("nixos")+" "))
}

// TestTamper: the signatures verify with Key until a tamper mode breaks them.
func TestTamper(t *testing.T) {
	sim, err := distsim.New()
	require.NoError(t, err)
	defer sim.Close()
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(sim.Key()))
	require.NoError(t, err)
	require.Equal(t, sim.Fingerprint(), cloudimage.Fingerprint(ring[0]))
	dir := sim.URL() + "/ubuntu/releases/noble/release-" + sim.Latest("ubuntu") + "/"
	verify := func() error {
		_, _, sums := get(t, http.DefaultClient, dir+"SHA256SUMS")
		_, _, sig := get(t, http.DefaultClient, dir+"SHA256SUMS.gpg")
		_, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(sums), bytes.NewReader(sig), nil)
		return err
	}
	require.NoError(t, verify())
	for _, mode := range []distsim.Tamper{distsim.TamperSumsAfterSigning, distsim.TamperOtherKey} {
		require.NoError(t, sim.SetTamper("ubuntu", mode))
		require.Error(t, verify(), mode.String())
	}
	require.NoError(t, sim.SetTamper("ubuntu", distsim.TamperMissingEntry))
	require.NoError(t, verify(), "the entry is left out before signing")
	_, _, sums := get(t, http.DefaultClient, dir+"SHA256SUMS")
	require.NotContains(t, string(sums), "amd64.img")
	require.NoError(t, sim.SetTamper("ubuntu", distsim.TamperImage))
	_, _, img := get(t, http.DefaultClient, dir+"ubuntu-24.04-server-cloudimg-amd64.img")
	require.NotEqual(t, sim.Image("ubuntu", sim.Latest("ubuntu")), img)

	require.ErrorIs(t, sim.SetTamper("debian", distsim.TamperOtherKey), distsim.ErrUnsigned)
	require.ErrorContains(t, sim.SetTamper("gentoo", distsim.TamperNone), `unknown OS "gentoo"`)
	_, err = sim.Publish("gentoo")
	require.ErrorContains(t, err, `unknown OS "gentoo"`)
}

// TestBandwidth: a limited connection still serves the whole image (the
// rate itself is measured by the images:import benchmark, not asserted).
func TestBandwidth(t *testing.T) {
	sim, err := distsim.New(distsim.WithBandwidth(4<<20), distsim.WithImageData(256<<10), distsim.WithTLS())
	require.NoError(t, err)
	defer sim.Close()
	r, err := cloudimage.NewResolver(sim.ResolverOptions()...)
	require.NoError(t, err)
	b, err := r.Latest(t.Context(), "debian", "13")
	require.NoError(t, err)
	rc, err := r.Open(t.Context(), b)
	require.NoError(t, err)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, sim.Image("debian", b.Serial), got)
	require.Greater(t, len(got), 256<<10)
}

// Serve the four sites and publish a newer Arch build.
func Example() {
	sim, err := distsim.New()
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	fmt.Println(sim.Latest("ubuntu"), sim.Latest("debian"), sim.Latest("arch"), sim.Latest("nixos"))
	next, err := sim.Publish("arch")
	fmt.Println(next, err)
	fmt.Println(strings.TrimPrefix(sim.BaseURL("arch"), sim.URL()))
	// Output:
	// 20261101 20261101-2301 20261101.412345 25.11.1234.abcdef0-312345678
	// 20261102.412346 <nil>
	// /arch/images
}
