package ansible_test

import (
	"fmt"
	"path/filepath"

	"github.com/wdiazux/infra/lib/ansible"
	"github.com/wdiazux/infra/lib/inventory"
)

// The Ansible inventory is made from homelab.yaml: its enabled VMs, by OS.
func ExampleInventory() {
	inv, err := inventory.Load(filepath.Join("..", "..", "homelab.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := ansible.Inventory(inv, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// # Generated from homelab.yaml.
	// # Do not edit: change homelab.yaml. NixOS VMs are configured declaratively and are not here.
	// all:
	//   children:
	//     linux:
	//       children:
	//         arch: {}
	//         debian:
	//           hosts:
	//             debian-vm:
	//               ansible_host: 10.10.2.52
	//               ansible_user: debian
	//         ubuntu:
	//           hosts:
	//             ubuntu-vm:
	//               ansible_host: 10.10.2.51
	//               ansible_user: ubuntu
	//     windows: {}
}
