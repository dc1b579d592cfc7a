# A root module that calls terraform/modules/proxmox-vm with every input
# from one variable, vm, so a test can change any of them in its variables
# file. internal/tfmodule's tests copy the module beside this file, under
# modules/proxmox-vm, validate it, plan it with bad inputs and apply it
# against pvesim.

terraform {
  required_version = ">= 1.11"
  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = "~> 0.80"
    }
  }
}

variable "endpoint" {
  type = string
}

variable "api_token" {
  type      = string
  sensitive = true
}

variable "vm" {
  type = any
}

provider "proxmox" {
  endpoint  = var.endpoint
  api_token = var.api_token
  # The simulator's self-signed certificate is trusted through
  # SSL_CERT_FILE, as an operator trusts the host's: no insecure = true.
  insecure = false
}

module "vm" {
  source = "./modules/proxmox-vm"

  node_name   = var.vm.node_name
  vm_id       = var.vm.vm_id
  name        = var.vm.name
  template_id = var.vm.template_id
  cores       = var.vm.cores
  memory_mib  = var.vm.memory_mib
  datastore   = var.vm.datastore
  os_disk_gib = var.vm.os_disk_gib
  bridge      = var.vm.bridge
  role        = var.vm.role
  os          = var.vm.os

  cpu_type    = try(var.vm.cpu_type, "host")
  machine     = try(var.vm.machine, "q35")
  bios        = try(var.vm.bios, "ovmf")
  data_disk   = try(var.vm.data_disk, null)
  vlan_id     = try(var.vm.vlan_id, null)
  cloud_init  = try(var.vm.cloud_init, null)
  extra_tags  = try(var.vm.extra_tags, [])
  pci_mapping = try(var.vm.pci_mapping, null)
  tpm         = try(var.vm.tpm, false)
  started     = try(var.vm.started, true)
  on_boot     = try(var.vm.on_boot, false)
}

output "vm_id" {
  value = module.vm.vm_id
}

output "name" {
  value = module.vm.name
}

output "ipv4_address" {
  value = module.vm.ipv4_address
}

output "mac_address" {
  value = module.vm.mac_address
}
