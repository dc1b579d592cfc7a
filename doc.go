// Package infra builds golden VM images and a Talos Kubernetes cluster on a
// Proxmox VE 9 homelab from one inventory, homelab.yaml. The code lives in
// lib/ and the Mage targets in magefiles/; this root package holds only the
// repository checks (repo_test.go): README and CI entry point, the mage
// targets end to end, the docs tree, .sops.yaml, .gitignore, .envrc,
// shell.nix with npins/ evaluated by Nix, and homelab.yaml as Terraform reads it;
// what git tracks and how Go is spelt (layout_test.go): no binary, nothing
// over 2 MiB, any and slog.DiscardHandler; and the architecture
// (architecture_test.go): the import arrows between lib/ packages and no
// runner command in a library's strings (docs/reference/architecture.md).
package infra
