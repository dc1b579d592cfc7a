package terraform_test

import (
	"fmt"
	"io/fs"

	"github.com/wdiazux/infra/lib/terraform"
)

// A program picks the stack and the binary, then runs the stack:
//
//	cfg, _ := proxmox.ConfigFromEnv()
//	run, err := terraform.New(ctx, ".", terraform.WithProxmox(cfg), terraform.WithLogger(logger))
//	res, err := run.Apply(ctx, terraform.StackTalos, terraform.ApplyOptions{})
//	fmt.Println(res.Binary, res.Summary) // terraform 1.11.4 (...) 1 to create, ...
func Example() {
	stack, err := terraform.ParseStack("vms")
	if err != nil {
		panic(err)
	}
	fmt.Println(stack.Dir())

	onlyTofu := func(name string) (string, error) {
		if name == "tofu" {
			return "/usr/bin/tofu", nil
		}
		return "", fs.ErrNotExist
	}
	bin, err := terraform.FindBinary(func(string) string { return "" }, onlyTofu)
	if err != nil {
		panic(err)
	}
	fmt.Println(bin.Name, bin.Path)
	// Output:
	// terraform/traditional-vms
	// tofu /usr/bin/tofu
}
