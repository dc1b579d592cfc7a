package main

import (
	"fmt"
	"os"

	"github.com/wdiazux/infra/lib/proxmox/pvesim/internal/schema"
)

func main() {
	data, err := schema.ExtractFile("pve-apidoc.json.gz")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile("subset.json", data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
