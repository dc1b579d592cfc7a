source "proxmox-clone" "no-cpu" {
  scsi_controller = "virtio-scsi-single"
}
