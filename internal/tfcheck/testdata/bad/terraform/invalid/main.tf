terraform {
  required_version = ">= 1.11"
}

output "name" {
  description = "An undeclared variable."
  value       = var.missing
}
