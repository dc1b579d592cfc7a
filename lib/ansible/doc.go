// Package ansible owns the Ansible layer: it renders the Ansible inventory
// of the homelab's VMs from the inventory (never kept by hand), and runs
// the playbooks and linters of the ansible/ directory with its
// ansible.cfg, reporting each host's play recap so callers can check that
// a re-run changed nothing.
package ansible
