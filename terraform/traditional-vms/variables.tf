variable "inventory_file" {
  description = "Path of homelab.yaml, the inventory every fact comes from, relative to the directory terraform runs in (this stack's)."
  type        = string
  default     = "../../homelab.yaml"
  nullable    = false
}
