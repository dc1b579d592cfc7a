// Package cluster brings the inventory's Talos cluster up on Proxmox VE:
// the whole primary path, in order, each step resumable and idempotent.
//
// Up runs ten steps: preflight (lib/preflight: the host, the token and
// the inventory fit together), the Talos template (lib/images.ImportTalos),
// the nodes removed from the inventory taken out (see below), the node VMs (a Stage the caller gives: the terraform/talos stack
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
// Scaling is an edit of talos.nodes followed by Up. A node added gets its
// VM, its config and joins: a control plane joins etcd (Talos adds it as
// a learner and promotes it), never a second bootstrap; the existing
// nodes' configs change (with three control planes talos.vip becomes the
// cluster endpoint, and the certificates' SANs list every control plane)
// and are applied without a reboot; the kubeconfig step replaces a
// kubeconfig for the old endpoint; health waits for one voting etcd
// member per control plane; the add-ons' replica counts follow the node
// count. A node removed is taken out by the remove nodes step, before the
// node VMs step: the nodes whose VMs the node VMs Stage holds
// (NodeVMRemover, Terraform's state) or whose etcd members exist while the
// inventory no longer lists them, workers first, each in turn cordoned and
// drained through the Kubernetes API when it answers (evictions respect
// PodDisruptionBudgets until WithDrainWait), its etcd member removed (the
// node leaves etcd itself when it answers, else the member is removed by
// ID through a control plane), its Node object deleted; then exactly
// their VMs are destroyed. The step refuses, before changing anything, to
// remove the last etcd member or to leave the remaining members without a
// quorum of them answering; the inventory itself refuses an even number of
// control planes. The node VMs step still refuses any other destroy.
//
// Up returns a Report with one StepResult per step (its name, whether it
// changed something, and what it did or found), reports each step as it
// starts and ends (WithEvents), and wraps a failure in a *StepError that
// names the step.
//
// WithDryRun changes nothing: each step only checks, reading (preflight,
// the import's own dry run, the nodes that would be removed and how, the
// node VMs' plan (a StagePlanner), the
// configs' dry run, each node's state and dry run, etcd's members, the
// kubeconfig on disk, one health check, the add-ons' plan), up to the
// first step that would change something; Report.Unchecked lists the steps
// after it, whose state depends on it.
package cluster
