output "vm_id" {
  description = "The VM's ID."
  value       = module.vm.vm_id
}
