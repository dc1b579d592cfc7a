# The traditional VMs: one per homelab.yaml vms entry with enabled: true,
# cloned from its image's template (images.<image>.template_id), with the
# inventory user (user.name, user.ssh_public_keys) on the cloud-init drive.

locals {
  # Grouped by name (...) so a duplicate name is reported by the inventory
  # checks instead of failing here.
  by_name = { for v in module.inventory.enabled_vms : try(v.name, "") => v... }
}

module "vm" {
  source = "../modules/proxmox-vm"
  # Filtered, not a conditional: VMs whose entries differ in shape (one
  # with a block or a list the other lacks) make an object type that `{}`
  # does not match, and the plan would fail (as terraform/talos did).
  for_each = { for name, vs in local.by_name : name => vs[0] if length(local.problems) == 0 }

  node_name   = local.inv.proxmox.node
  vm_id       = each.value.vm_id
  name        = each.key
  template_id = local.inv.images[each.value.image].template_id
  cores       = each.value.cores
  memory_mib  = each.value.memory_mib
  cpu_type    = "host"

  # The image templates' hardware (q35, OVMF, virtio-scsi-single), the
  # module's defaults.
  machine       = "q35"
  bios          = "ovmf"
  scsi_hardware = "virtio-scsi-single"

  datastore   = local.inv.proxmox.storage.disks
  os_disk_gib = each.value.disk_gib

  bridge = local.inv.proxmox.bridge
  cloud_init = {
    ipv4_address  = "${each.value.ip}/${module.inventory.prefix}"
    gateway       = local.inv.network.gateway
    dns_servers   = module.inventory.dns_servers
    search_domain = module.inventory.search_domain
    user = {
      name     = local.inv.user.name
      ssh_keys = local.inv.user.ssh_public_keys
    }
  }

  # Tags infra-managed and the image's name (the OS); role repeats it, so
  # the module's distinct() keeps one.
  role    = each.value.image
  os      = each.value.image
  agent   = true
  started = true
  on_boot = true
}
