package factorysim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

func TestImagesAreDeterministicAndOnlyForKnownSchematics(t *testing.T) {
	f := factorysim.New(factorysim.WithPayload(4096))
	defer f.Close()
	c, err := talosfactory.New(f.URL())
	require.NoError(t, err)
	ctx := context.Background()
	url := func(id string) string { return c.ImageURL(id, "v1.12.7", talosfactory.NoCloudImage) }

	id, err := c.CreateSchematic(ctx, talosfactory.NewSchematic([]string{"siderolabs/qemu-guest-agent"}, nil))
	require.NoError(t, err)
	_, a, err := c.Digest(ctx, url(id), nil)
	require.NoError(t, err)
	_, b, err := c.Digest(ctx, url(id), nil)
	require.NoError(t, err)
	require.Equal(t, a, b)

	other, err := c.CreateSchematic(ctx, talosfactory.NewSchematic([]string{"siderolabs/zfs"}, nil))
	require.NoError(t, err)
	_, c2, err := c.Digest(ctx, url(other), nil)
	require.NoError(t, err)
	require.NotEqual(t, a, c2)

	resp, err := http.Get(url(strings.Repeat("0", 64)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "an unregistered schematic has no images")

	f.ReplaceImage(id, "v1.12.7", []byte("rebuilt"))
	_, d, err := c.Digest(ctx, url(id), nil)
	require.NoError(t, err)
	require.NotEqual(t, a, d)
	require.Contains(t, f.Requests(), "POST /schematics")
}

func ExampleNew() {
	f := factorysim.New()
	defer f.Close()
	c, _ := talosfactory.New(f.URL())
	versions, _ := c.Versions(context.Background())
	fmt.Println(versions[len(versions)-1])
	// Output: v1.13.0
}
