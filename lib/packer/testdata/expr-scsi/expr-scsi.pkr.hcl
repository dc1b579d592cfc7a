variable "scsi" {
  default = "virtio-scsi-single"
}

source "proxmox-iso" "expr-scsi" {
  scsi_controller = var.scsi
  cpu_type        = "host"
}
