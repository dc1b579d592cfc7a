# The variables every template takes from the images:build target (lib/packer):
# the inventory file and the Proxmox connection. packer/<os>/connection.pkr.hcl
# is a link to this file. The token and URL come from the environment only.

variable "inventory_file" {
  type        = string
  default     = ""
  description = "The homelab.yaml to read; empty: the repository's, two directories above the template."
}

variable "proxmox_url" {
  type        = string
  default     = env("PROXMOX_URL")
  description = "The API URL, https://<host>:8006/api2/json."
}

variable "proxmox_token_id" {
  type        = string
  default     = env("PROXMOX_TOKEN_ID")
  description = "The API token's ID, user@realm!name."
}

variable "proxmox_token_secret" {
  type        = string
  default     = env("PROXMOX_TOKEN_SECRET")
  sensitive   = true
  description = "The API token's secret; from the environment only, never in a file."
}

variable "insecure_skip_tls_verify" {
  type        = bool
  default     = false
  description = "Skip TLS verification of the API; only when the operator asks for it (PROXMOX_TLS_INSECURE=1; a CA file in SSL_CERT_FILE is better)."
}
