source "proxmox-clone" "a" {
  scsi_controller = "virtio-scsi-single"
  cpu_type        = "host"
}

source "proxmox-clone" "b" {
  scsi_controller = "virtio-scsi-single"
  cpu_type        = "host"
}
