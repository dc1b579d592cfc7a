variable "node_name" {
  description = "The Proxmox VE node."
  type        = string
}
