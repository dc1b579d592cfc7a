source "proxmox-clone" "demo" {
  scsi_controller = "virtio-scsi-single"
  cpu_type = "host"
}

build {
  sources = ["source.proxmox-clone.demo"]
}
