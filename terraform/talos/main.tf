# The Talos node VMs: one per homelab.yaml talos.nodes entry, cloned from
# the Talos template (talos.template_id). The node's address reaches Talos
# through the cloud-init drive, which its nocloud platform reads, so the
# node answers in maintenance mode at its inventory address.

locals {
  # Grouped by name (...) so a duplicate name is reported by the inventory
  # checks instead of failing here.
  by_name = { for n in module.inventory.nodes : try(n.name, "") => n... }
}

module "node" {
  source = "../modules/proxmox-vm"
  # Filtered, not a conditional: nodes of different shapes (one with a GPU
  # or a data disk, one without) make an object type that `{}` does not
  # match, and the plan of a second node would fail.
  for_each = { for name, ns in local.by_name : name => ns[0] if length(local.problems) == 0 }

  node_name   = local.inv.proxmox.node
  vm_id       = each.value.vm_id
  name        = each.key
  template_id = local.inv.talos.template_id
  cores       = each.value.cores
  memory_mib  = each.value.memory_mib
  cpu_type    = "host"

  # The Talos template's hardware (lib/images: q35, OVMF, virtio-scsi-single).
  machine       = "q35"
  bios          = "ovmf"
  scsi_hardware = "virtio-scsi-single"

  datastore   = local.inv.proxmox.storage.disks
  os_disk_gib = each.value.os_disk_gib
  data_disk = try(each.value.data_disk_gib, 0) > 0 ? {
    datastore = local.inv.proxmox.storage.disks
    size_gib  = each.value.data_disk_gib
  } : null

  bridge = local.inv.proxmox.bridge
  cloud_init = {
    ipv4_address  = "${each.value.ip}/${module.inventory.prefix}"
    gateway       = local.inv.network.gateway
    dns_servers   = module.inventory.dns_servers
    search_domain = module.inventory.search_domain
    user          = null
  }

  pci_mapping = try(each.value.gpu.enabled, false) ? each.value.gpu.mapping : null
  tpm         = try(local.inv.talos.disk_encryption, false)

  role    = each.value.role
  os      = "talos"
  agent   = true
  started = true
  on_boot = true
}
