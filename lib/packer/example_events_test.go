package packer_test

import (
	"fmt"

	"github.com/wdiazux/infra/lib/packer"
)

// ExampleParseEvent reads one line of packer build -machine-readable.
func ExampleParseEvent() {
	e, ok := packer.ParseEvent("1795749032,ubuntu.proxmox-clone.ubuntu,artifact,0,id,9102")
	fmt.Println(ok, e.Target, e.Type, e.Data)
	fmt.Println(packer.TemplateName("ubuntu", "24.04"), packer.TemplateTags("ubuntu"))
	// Output:
	// true ubuntu.proxmox-clone.ubuntu artifact [0 id 9102]
	// ubuntu-24-04-template [infra-managed ubuntu template]
}
