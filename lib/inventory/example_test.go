package inventory_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wdiazux/infra/lib/inventory"
)

// Load the inventory, then read its facts through the typed structs.
func ExampleLoad() {
	inv, err := inventory.Load("testdata/valid/minimal.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	node := inv.Talos.Nodes[0]
	fmt.Println(node.Name, node.IP, inv.Talos.Version)
	fmt.Println("endpoint:", inv.Talos.Endpoint())
	// Output:
	// cp-1 192.168.1.5 v1.12.7
	// endpoint: 192.168.1.5
}

// An invalid inventory reports every problem, each with its line and field path.
func ExampleParse() {
	_, err := inventory.Parse("homelab.yaml", []byte(`schema: 1
network:
  cidr: 10.10.2.0/24
  gateway: 10.10.3.1
  domain: home-infra.net
`))
	var invErr *inventory.Error
	if errors.As(err, &invErr) {
		for _, p := range invErr.Problems {
			if strings.HasPrefix(p.Path, "network.") {
				fmt.Println(p)
			}
		}
		fmt.Println(len(invErr.Problems), "problems in all")
	}
	// Output:
	// homelab.yaml:2: network.dns_servers: required field is missing
	// homelab.yaml:2: network.ntp_servers: required field is missing
	// homelab.yaml:2: network.ranges: required field is missing
	// homelab.yaml:4: network.gateway: 10.10.3.1 is outside network 10.10.2.0/24
	// 11 problems in all
}
