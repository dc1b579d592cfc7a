output "vm_id" {
  description = "The VM's ID."
  value       = proxmox_virtual_environment_vm.this.vm_id
}

output "name" {
  description = "The VM's name."
  value       = proxmox_virtual_environment_vm.this.name
}

output "ipv4_address" {
  description = "The VM's IPv4 address: the cloud-init one when set, otherwise the first non-loopback one the guest agent reports (null until it does)."
  value = (
    var.cloud_init != null
    ? split("/", var.cloud_init.ipv4_address)[0]
    : try([for a in flatten(proxmox_virtual_environment_vm.this.ipv4_addresses) : a if a != "127.0.0.1"][0], null)
  )
}

output "mac_address" {
  description = "The MAC address of the VM's NIC."
  value       = proxmox_virtual_environment_vm.this.network_device[0].mac_address
}

output "ipv4_addresses" {
  description = "The IPv4 addresses the guest agent reports, one list per interface (empty while the VM is stopped or has no agent)."
  value       = proxmox_virtual_environment_vm.this.ipv4_addresses
}
