packer {
  required_version = ">= 1.12.0"
  required_plugins {
    proxmox = {
      version = ">= 1.0.9"
      source  = "github.com/hashicorp/proxmox"
    }
  }
}
