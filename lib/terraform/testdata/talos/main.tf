# A small stand-in for terraform/talos that lib/terraform's tests run
# against pvesim: the first Talos node of the inventory, cloned from the
# Talos template by the proxmox-vm module (copied to modules/ by the test).
# The provider's endpoint and token come from the environment the Runner
# sets (PROXMOX_VE_ENDPOINT, PROXMOX_VE_API_TOKEN, SSL_CERT_FILE).

terraform {
  required_version = ">= 1.11"
  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = "~> 0.80"
    }
  }
}

variable "inventory_file" {
  type    = string
  default = "../../homelab.yaml"
}

locals {
  inv  = yamldecode(file(var.inventory_file))
  node = local.inv.talos.nodes[0]
  bits = split("/", local.inv.network.cidr)[1]
}

provider "proxmox" {}

module "node" {
  source = "./modules/proxmox-vm"

  node_name   = local.inv.proxmox.node
  vm_id       = local.node.vm_id
  name        = local.node.name
  template_id = local.inv.talos.template_id
  cores       = local.node.cores
  memory_mib  = local.node.memory_mib
  datastore   = local.inv.proxmox.storage.disks
  os_disk_gib = local.node.os_disk_gib
  bridge      = local.inv.proxmox.bridge
  role        = "controlplane"
  os          = "talos"
  pci_mapping = local.node.gpu.mapping
  started     = false
  on_boot     = false
  cloud_init = {
    ipv4_address = "${local.node.ip}/${local.bits}"
    gateway      = local.inv.network.gateway
    dns_servers  = local.inv.network.dns_servers
  }
}

output "vm_id" {
  value = module.node.vm_id
}

output "name" {
  value = module.node.name
}
