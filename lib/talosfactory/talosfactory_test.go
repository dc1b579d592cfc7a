package talosfactory_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

func TestSchematicID(t *testing.T) {
	// The reference value: the ID of the empty schematic.
	id, err := talosfactory.Schematic{}.ID()
	require.NoError(t, err)
	require.Equal(t, "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba", id)

	// The ID the public factory answers for its most common schematic
	// (qemu-guest-agent + iscsi-tools + util-linux-tools), as published in
	// many Talos-on-Proxmox repositories.
	common, err := talosfactory.NewSchematic([]string{"siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools", "siderolabs/util-linux-tools"}, nil).ID()
	require.NoError(t, err)
	require.Equal(t, "53513e54bb39202f35694412577a6bc53d484744d35a126e5d42ef34785c0d83", common)

	s := talosfactory.NewSchematic([]string{"siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"}, []string{"net.ifnames=0"})
	y, err := s.Marshal()
	require.NoError(t, err)
	require.Equal(t, `customization:
    extraKernelArgs:
        - net.ifnames=0
    systemExtensions:
        officialExtensions:
            - siderolabs/qemu-guest-agent
            - siderolabs/iscsi-tools
`, string(y))
	sum := sha256.Sum256(y)
	id, err = s.ID()
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(sum[:]), id)

	back, err := talosfactory.UnmarshalSchematic(y)
	require.NoError(t, err)
	require.Equal(t, s, back)
	_, err = talosfactory.UnmarshalSchematic([]byte("customization:\n  systemExtension: {}\n"))
	require.ErrorContains(t, err, "field systemExtension not found")
}

func TestClientAgainstStandIn(t *testing.T) {
	f := factorysim.New()
	defer f.Close()
	c, err := talosfactory.New(f.URL())
	require.NoError(t, err)
	ctx := context.Background()
	s := talosfactory.NewSchematic([]string{"siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"}, nil)

	require.NoError(t, c.Check(ctx, "v1.12.7", s))
	err = c.Check(ctx, "v1.12.99", s)
	require.ErrorIs(t, err, talosfactory.ErrUnknownVersion)
	require.ErrorContains(t, err, "does not offer Talos v1.12.99")
	err = c.Check(ctx, "v1.12.7", talosfactory.NewSchematic([]string{"siderolabs/iscsi-tool"}, nil))
	require.ErrorIs(t, err, talosfactory.ErrUnknownExtension)
	require.ErrorContains(t, err, "did you mean siderolabs/iscsi-tools?")

	id, err := c.CreateSchematic(ctx, s)
	require.NoError(t, err)
	want, _ := s.ID()
	require.Equal(t, want, id)

	n, sum, err := c.Digest(ctx, c.ImageURL(id, "v1.12.7", talosfactory.NoCloudImage), nil)
	require.NoError(t, err)
	img := f.Image(id, "v1.12.7")
	require.Equal(t, int64(len(img)), n)
	imgSum := sha256.Sum256(img)
	require.Equal(t, hex.EncodeToString(imgSum[:]), sum)
	require.Equal(t, n, f.ImageBytesServed())

	require.Equal(t, f.URL()[len("http://"):]+"/installer/"+id+":v1.12.7", c.InstallerRef(id, "v1.12.7"))

	f.FailNext("GET", "/versions", http.StatusInternalServerError, "database is down")
	err = c.Check(ctx, "v1.12.7", s)
	var fe *talosfactory.Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, http.StatusInternalServerError, fe.StatusCode)
	require.ErrorContains(t, err, "500 Internal Server Error: database is down")

	_, _, err = c.Digest(ctx, c.ImageURL("0000", "v1.12.7", talosfactory.NoCloudImage), nil)
	require.ErrorAs(t, err, &fe)
	require.Equal(t, http.StatusNotFound, fe.StatusCode)
}

func TestSchematicIDMismatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"0000000000000000000000000000000000000000000000000000000000000000"}`)
	}))
	defer srv.Close()
	c, err := talosfactory.New(srv.URL)
	require.NoError(t, err)
	_, err = c.CreateSchematic(context.Background(), talosfactory.Schematic{})
	require.ErrorIs(t, err, talosfactory.ErrSchematicMismatch)
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"factory.talos.dev", "ftp://x", "://"} {
		_, err := talosfactory.New(u)
		require.ErrorContains(t, err, "talos.factory_url", u)
	}
	c, err := talosfactory.New("")
	require.NoError(t, err)
	require.Equal(t, "factory.talos.dev/installer/abc:v1.12.7", c.InstallerRef("abc", "v1.12.7"))
}

func ExampleSchematic_ID() {
	s := talosfactory.NewSchematic([]string{"siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools", "siderolabs/util-linux-tools"}, nil)
	id, _ := s.ID()
	c, _ := talosfactory.New(talosfactory.DefaultURL)
	fmt.Println(c.InstallerRef(id, "v1.12.7"))
	fmt.Println(c.ImageURL(id, "v1.12.7", talosfactory.NoCloudImage))
	// Output:
	// factory.talos.dev/installer/53513e54bb39202f35694412577a6bc53d484744d35a126e5d42ef34785c0d83:v1.12.7
	// https://factory.talos.dev/image/53513e54bb39202f35694412577a6bc53d484744d35a126e5d42ef34785c0d83/v1.12.7/nocloud-amd64.qcow2
}
