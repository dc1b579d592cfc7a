# One VM cloned from a template, on the bpg/proxmox provider.

locals {
  tags = distinct(concat(["infra-managed", var.role, var.os], var.extra_tags))
}

resource "proxmox_virtual_environment_vm" "this" {
  node_name = var.node_name
  vm_id     = var.vm_id
  name      = var.name
  tags      = local.tags
  started   = var.started
  on_boot   = var.on_boot

  clone {
    vm_id = var.template_id
    full  = var.full_clone
  }

  # The template's hardware, restated so the provider's defaults do not
  # change it (bpg defaults bios to seabios and scsi_hardware to
  # virtio-scsi-pci).
  machine       = var.machine
  bios          = var.bios
  scsi_hardware = var.scsi_hardware

  operating_system {
    type = "l26"
  }

  agent {
    enabled = var.agent
    timeout = "2m"
  }

  cpu {
    cores = var.cores
    type  = var.cpu_type
  }

  memory {
    dedicated = var.memory_mib
  }

  # The template's EFI disk, restated. After a clone bpg 0.80 asks to move
  # efidisk0 to this datastore_id whatever storage it is on, which a host
  # refuses when it is the same one ("you can't move to the same storage
  # with same format"); the provider takes that answer as success.
  dynamic "efi_disk" {
    for_each = var.bios == "ovmf" ? [1] : []
    content {
      datastore_id      = var.datastore
      file_format       = "raw"
      type              = "4m"
      pre_enrolled_keys = false
    }
  }

  disk {
    datastore_id = var.datastore
    interface    = "scsi0"
    size         = var.os_disk_gib
    iothread     = true
    discard      = "on"
    ssd          = true
  }

  dynamic "disk" {
    for_each = var.data_disk == null ? [] : [var.data_disk]
    content {
      datastore_id = disk.value.datastore
      interface    = "scsi1"
      size         = disk.value.size_gib
      file_format  = "raw"
      iothread     = true
      discard      = "on"
      ssd          = true
    }
  }

  network_device {
    bridge  = var.bridge
    model   = "virtio"
    vlan_id = var.vlan_id
  }

  dynamic "hostpci" {
    for_each = var.pci_mapping == null ? [] : [var.pci_mapping]
    content {
      device  = "hostpci0"
      mapping = hostpci.value
      pcie    = var.machine == "q35"
      # bpg 0.80 sends rombar=0 when rombar is unset, although its docs say
      # the default is on: state it.
      rombar = true
    }
  }

  dynamic "tpm_state" {
    for_each = var.tpm ? [1] : []
    content {
      datastore_id = var.datastore
      version      = "v2.0"
    }
  }

  dynamic "initialization" {
    for_each = var.cloud_init == null ? [] : [var.cloud_init]
    content {
      datastore_id = var.datastore
      ip_config {
        ipv4 {
          address = initialization.value.ipv4_address
          gateway = initialization.value.gateway
        }
      }
      dns {
        servers = length(initialization.value.dns_servers) > 0 ? initialization.value.dns_servers : null
        domain  = initialization.value.search_domain
      }
      dynamic "user_account" {
        for_each = initialization.value.user == null ? [] : [initialization.value.user]
        content {
          username = user_account.value.name
          keys     = user_account.value.ssh_keys
        }
      }
    }
  }
}
