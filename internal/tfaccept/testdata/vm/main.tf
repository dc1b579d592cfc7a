# One Talos node as the Terraform stack will declare it: a full clone of the
# Talos template that talos:import builds, made by the proxmox-vm module
# (terraform/modules/proxmox-vm, copied to modules/ by the test) on the
# bpg/proxmox provider. internal/tfaccept's test applies it against pvesim;
# every value comes from the variables file the test writes from
# homelab.yaml.

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

variable "node" {
  type = string
}

variable "template_id" {
  type = number
}

variable "vm" {
  type = object({
    id          = number
    name        = string
    cores       = number
    memory_mib  = number
    os_disk_gib = number
    address     = string
    gateway     = string
    dns_servers = list(string)
    gpu_mapping = string
  })
}

variable "datastore" {
  type = string
}

variable "bridge" {
  type = string
}

variable "started" {
  type = bool
}

provider "proxmox" {
  endpoint  = var.endpoint
  api_token = var.api_token
  # The simulator's self-signed certificate is trusted through
  # SSL_CERT_FILE, as an operator trusts the host's: no insecure = true.
  insecure = false
}

module "node" {
  source = "./modules/proxmox-vm"

  node_name   = var.node
  vm_id       = var.vm.id
  name        = var.vm.name
  template_id = var.template_id
  cores       = var.vm.cores
  memory_mib  = var.vm.memory_mib
  datastore   = var.datastore
  os_disk_gib = var.vm.os_disk_gib
  bridge      = var.bridge
  role        = "controlplane"
  os          = "talos"
  pci_mapping = var.vm.gpu_mapping
  started     = var.started
  on_boot     = false
  cloud_init = {
    ipv4_address = var.vm.address
    gateway      = var.vm.gateway
    dns_servers  = var.vm.dns_servers
  }
}

output "ipv4_addresses" {
  value = module.node.ipv4_addresses
}
