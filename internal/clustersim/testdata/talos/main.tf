# The Talos node VMs as the terraform/talos stack declares them, reduced to
# what internal/clustersim needs until lib/terraform and terraform/talos are
# merged: one VM per talos.nodes entry of the inventory, a full clone of
# talos.template_id made by the proxmox-vm module (copied to modules/ by
# the harness), its address given through the cloud-init drive, started so
# that the Talos node boots into maintenance mode at that address.

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
  type = string
}

variable "endpoint" {
  type = string
}

variable "api_token" {
  type      = string
  sensitive = true
}

locals {
  inv    = yamldecode(file(var.inventory_file))
  prefix = split("/", local.inv.network.cidr)[1]
  nodes  = { for n in local.inv.talos.nodes : n.name => n }
}

provider "proxmox" {
  endpoint  = var.endpoint
  api_token = var.api_token
  # The simulator's certificate is trusted through SSL_CERT_FILE.
  insecure = false
}

module "node" {
  source   = "./modules/proxmox-vm"
  for_each = local.nodes

  node_name   = local.inv.proxmox.node
  vm_id       = each.value.vm_id
  name        = each.key
  template_id = local.inv.talos.template_id
  cpu_type    = "host"
  cores       = each.value.cores
  memory_mib  = each.value.memory_mib
  datastore   = local.inv.proxmox.storage.disks
  os_disk_gib = each.value.os_disk_gib
  bridge      = local.inv.proxmox.bridge
  role        = each.value.role
  os          = "talos"
  pci_mapping = try(each.value.gpu.enabled, false) ? each.value.gpu.mapping : null
  started     = true
  on_boot     = true
  cloud_init = {
    ipv4_address = "${each.value.ip}/${local.prefix}"
    gateway      = local.inv.network.gateway
    dns_servers  = local.inv.network.dns_servers
  }
}
