terraform {
  required_version = ">= 1.11"
}

locals {
  name = "unformatted"
  tags   = ["a"]
}

output "name" {
  description = "The name."
  value       = local.name
}

output "tags" {
  description = "The tags."
  value       = local.tags
}
