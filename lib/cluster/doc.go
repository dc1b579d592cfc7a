// Package cluster brings the inventory's Talos cluster up on Proxmox VE:
// the whole primary path, in order, each step resumable and idempotent.
//
// Up runs nine steps: preflight (lib/preflight: the host, the token and
// the inventory fit together), the Talos template (lib/images.ImportTalos),
// the node VMs (a Stage the caller gives: the terraform/talos stack
// through lib/terraform), the node configs (lib/talosgen.SyncConfigs), the
// configs applied (lib/talosnode: a node in maintenance mode gets its
// config; a configured one is asked for its own dry run and gets it only
// when something differs), etcd bootstrapped once, the kubeconfig, the
// health wait, and the add-ons (a Stage the caller gives: the Helm
// releases of lib/addons, installed with the kubeconfig the kubeconfig
// step wrote).
//
// Each step decides from authoritative state, never from a marker of an
// earlier run: the host's VM configuration (the template's description,
// Terraform's refresh of the VMs), the files in talos/generated compared
// with what the inventory and the secrets bundle give, each node's own
// answer (maintenance mode or configured, etcd's members, its dry-run
// diff), and the kubeconfig on disk checked against the cluster's
// Kubernetes CA and endpoint. So a re-run on a healthy cluster changes
// nothing, and a run stopped after any step completes when run again.
//
// Up returns a Report with one StepResult per step (its name, whether it
// changed something, and what it did or found), reports each step as it
// starts and ends (WithEvents), and wraps a failure in a *StepError that
// names the step.
//
// WithDryRun changes nothing: each step only checks, reading (preflight,
// the import's own dry run, the node VMs' plan (a StagePlanner), the
// configs' dry run, each node's state and dry run, etcd's members, the
// kubeconfig on disk, one health check, the add-ons' plan), up to the
// first step that would change something; Report.Unchecked lists the steps
// after it, whose state depends on it.
package cluster
