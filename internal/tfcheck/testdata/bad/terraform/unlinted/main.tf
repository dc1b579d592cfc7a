terraform {
  required_version = ">= 1.11"
}

variable "name" {
  description = "A name."
  type        = string
}

variable "unused" {
  description = "A variable nothing reads."
  type        = string
}

output "name" {
  description = "The name."
  value       = var.name
}
