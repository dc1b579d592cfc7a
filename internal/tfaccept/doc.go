// Package tfaccept runs Terraform for real against the Proxmox simulator
// (lib/proxmox/pvesim), with providers built into the tool cache
// (internal/toolchain) and installed from there offline: a workspace with
// its CLI configuration and the simulator's certificate to trust, the
// terraform commands a test runs (init, apply, plan -detailed-exitcode,
// destroy), and the judgement of the simulator's request log: every error
// answer a run provokes must be one the test lists with the reason a real
// host gives it too.
//
// A stack's workspace (NewStackWorkspace) copies terraform/<stack> with the
// repository's layout around it: homelab.yaml two levels up and the modules
// beside it, so the stack's inventory_file default and module sources
// resolve as in a checkout.
//
// Its tests are the acceptance tests of issue 12 (the bpg/proxmox provider
// creates, re-plans with no changes, updates and destroys a VM cloned from
// the Talos template) and of issue 13's stacks (terraform/talos and
// terraform/traditional-vms apply against the simulator, re-plan with no
// change, update a node's cores in place and destroy; bad inventories are
// refused at plan naming the homelab.yaml field).
package tfaccept
