terraform {
  required_version = ">= 1.11"
  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = "~> 0.80"
    }
  }
}

provider "proxmox" {}

module "vm" {
  source    = "../modules/vm"
  node_name = var.node_name
}
