// Package tfaccept runs Terraform for real against the Proxmox simulator
// (lib/proxmox/pvesim), with providers built into the tool cache
// (internal/toolchain) and installed from there offline: a workspace with
// its CLI configuration and the simulator's certificate to trust, the
// terraform commands a test runs (init, apply, plan -detailed-exitcode,
// destroy), and the judgement of the simulator's request log: every error
// answer a run provokes must be one the test lists with the reason a real
// host gives it too.
//
// Its own test is the acceptance test of issue 12: the bpg/proxmox provider
// creates, re-plans with no changes, updates and destroys a VM cloned from
// the Talos template. The Terraform stack's own test reuses the package.
package tfaccept
