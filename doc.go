// Package infra builds golden VM images and a Talos Kubernetes cluster on a
// Proxmox VE 9 homelab from one inventory, homelab.yaml. The code lives in
// lib/ and the Mage targets in magefiles/; this root package holds only the
// repository checks (repo_test.go): README and CI entry point, the mage
// targets end to end, the docs tree, .sops.yaml, .gitignore, .envrc,
// shell.nix with npins/ evaluated by Nix, and homelab.yaml as Terraform reads it;
// and what git tracks (layout_test.go): no binary, nothing over 2 MiB.
package infra
