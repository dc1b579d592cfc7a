output "vm_id" {
  description = "The VM's ID."
  value       = proxmox_virtual_environment_vm.this.vm_id
}
