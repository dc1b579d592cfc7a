output "inventory" {
  description = "homelab.yaml, decoded."
  value       = local.inv
}

output "prefix" {
  description = "The prefix length of network.cidr, for the VMs' addresses in CIDR form."
  value       = local.prefix
}

output "nodes" {
  description = "The talos.nodes entries, in file order."
  value       = local.nodes
}

output "enabled_vms" {
  description = "The vms entries with enabled: true, in file order, each with its index in vms."
  value       = local.enabled
}

output "dns_servers" {
  description = "network.dns_servers as strings."
  value       = local.dns_servers
}

output "search_domain" {
  description = "network.search_domains (else network.domain) joined by spaces, as Proxmox VE's searchdomain takes them; null for none."
  value       = length(local.search_domains) > 0 ? join(" ", local.search_domains) : null
}

output "talos_problems" {
  description = "What the talos stack cannot honour in the inventory, one message a problem naming the homelab.yaml field; empty when none."
  value       = local.talos_problems
}

output "vms_problems" {
  description = "What the traditional-vms stack cannot honour in the inventory, one message a problem naming the homelab.yaml field; empty when none."
  value       = local.vms_problems
}
