output "id" {
  description = "The ID."
  value       = 1
}
