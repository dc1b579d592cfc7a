package cloudimage_test

import (
	"context"
	"fmt"
	"io"

	"github.com/wdiazux/infra/internal/distsim"
	"github.com/wdiazux/infra/lib/cloudimage"
)

// Resolve Ubuntu's newest build against the loopback stand-in, whose key
// replaces the pinned one, and stream the image, checked at EOF.
func Example() {
	sim, err := distsim.New()
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	r, err := cloudimage.NewResolver(sim.ResolverOptions()...)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	b, err := r.Latest(ctx, "ubuntu", "24.04")
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Serial, b.File, b.Format, b.Algorithm, b.SignedBy == sim.Fingerprint())

	rc, err := r.Open(ctx, b)
	if err != nil {
		panic(err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	fmt.Println(n > 0, err)
	// Output:
	// 20261101 ubuntu-24.04-server-cloudimg-amd64.img qcow2 sha256 true
	// true <nil>
}
