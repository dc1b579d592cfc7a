# One Talos node as the Terraform stack will declare it: a full clone of the
# Talos template that talos:import builds, on the bpg/proxmox provider.
# internal/tfaccept's test applies it against pvesim; every value comes from
# the variables file the test writes from homelab.yaml.

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

resource "proxmox_virtual_environment_vm" "node" {
  node_name = var.node
  vm_id     = var.vm.id
  name      = var.vm.name
  tags      = ["kubernetes", "talos"]
  started   = var.started
  on_boot   = false

  clone {
    vm_id = var.template_id
    full  = true
  }

  # The template's hardware, restated so the provider's defaults do not
  # change it (bpg defaults bios to seabios, scsi_hardware to virtio-scsi-pci).
  machine       = "q35"
  bios          = "ovmf"
  scsi_hardware = "virtio-scsi-single"

  operating_system {
    type = "l26"
  }

  agent {
    enabled = true
    timeout = "2m"
  }

  cpu {
    cores = var.vm.cores
    type  = "host"
  }

  memory {
    dedicated = var.vm.memory_mib
  }

  # The template's EFI disk, restated. After a clone bpg 0.80 always asks to
  # move efidisk0 to this datastore_id (it never counts efidisk0 among the
  # cloned disks), which a host refuses when the storage is the same ("you
  # can't move to the same storage with same format"; the provider takes
  # that answer as success).
  efi_disk {
    datastore_id      = var.datastore
    file_format       = "raw"
    type              = "4m"
    pre_enrolled_keys = false
  }

  disk {
    datastore_id = var.datastore
    interface    = "scsi0"
    size         = var.vm.os_disk_gib
    iothread     = true
    discard      = "on"
    ssd          = true
  }

  network_device {
    bridge = var.bridge
    model  = "virtio"
  }

  hostpci {
    device  = "hostpci0"
    mapping = var.vm.gpu_mapping
    pcie    = true
    # bpg 0.80 sends rombar=0 when rombar is unset, although its docs say
    # the default is on: state it.
    rombar = true
  }

  initialization {
    datastore_id = var.datastore
    ip_config {
      ipv4 {
        address = var.vm.address
        gateway = var.vm.gateway
      }
    }
    dns {
      servers = var.vm.dns_servers
    }
  }
}

output "ipv4_addresses" {
  value = proxmox_virtual_environment_vm.node.ipv4_addresses
}
