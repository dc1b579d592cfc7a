variable "vm_id" {
  description = "The VM's ID."
  type        = number
}

variable "tags" {
  description = "Tags, | separated."
  type        = list(string)
  default     = []
}

output "name" {
  description = "The VM's name."
  value       = "vm-${var.vm_id}"
}
