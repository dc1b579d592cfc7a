variable "file" {
  description = "Path of homelab.yaml, relative to the directory Terraform runs in."
  type        = string
  nullable    = false
}
