package nodesim_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"

	"github.com/siderolabs/talos/pkg/machinery/client"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// A fresh simulated node answers Version in maintenance mode, to a client
// that does not verify it (as talosctl --insecure), and records the call.
func ExampleNew() {
	inv, _ := inventory.Load(filepath.Join("..", "..", "..", "homelab.yaml"))
	bundle, _ := talosgen.NewBundle(inv)
	sim, err := nodesim.New(bundle, []string{"talos-cp-01"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	ctx := context.Background()
	c, err := client.New(ctx, client.WithTLSConfig(&tls.Config{InsecureSkipVerify: true}), client.WithEndpoints(sim.Endpoint("talos-cp-01"))) //nolint:gosec // maintenance mode
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Messages[0].Version.Tag)
	r := sim.Requests()[0]
	fmt.Println(r.Node, r.Method, "authenticated:", r.Authenticated)
	// Output:
	// v1.12.7
	// talos-cp-01 Version authenticated: false
}
