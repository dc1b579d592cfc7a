variable "vm_id" {
  description = "The VM's ID."
  type        = number
}

output "id" {
  description = "The VM's ID, as given."
  value       = var.vm_id
}
