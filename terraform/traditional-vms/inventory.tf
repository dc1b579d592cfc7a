# homelab.yaml, decoded, and what the traditional-vms stack refuses in it.
# Every problem names the field; terraform_data.inventory's precondition
# fails the plan while there is one, before any VM is created.

locals {
  inv = yamldecode(file(var.inventory_file))

  cidr   = try(tostring(local.inv.network.cidr), "")
  prefix = try(split("/", local.cidr)[1], "")
  nodes  = try([for n in local.inv.talos.nodes : n], [])
  vms    = try([for v in local.inv.vms : v], [])
  images = try({ for k, img in local.inv.images : k => img }, {})
  user   = try(local.inv.user, {})

  # The enabled VMs with their index in vms, which the messages name.
  enabled = [for i, v in local.vms : merge(v, { index = i }) if try(v.enabled, false) == true]

  # Every VM ID the inventory names, with its field: a VM's ID must be none
  # of the others (a template's, a Talos node's or another VM's).
  ids = concat(
    [for i, n in local.nodes : { field = "talos.nodes[${i}].vm_id", id = try(tonumber(n.vm_id), null) }],
    [for i, v in local.vms : { field = "vms[${i}].vm_id", id = try(tonumber(v.vm_id), null) }],
    [{ field = "talos.template_id", id = try(tonumber(local.inv.talos.template_id), null) }],
    flatten([for k, img in local.images : [
      { field = "images.${k}.template_id", id = try(tonumber(img.template_id), null) },
      { field = "images.${k}.base_vm_id", id = try(tonumber(img.base_vm_id), null) },
    ]]),
  )

  problems = concat(
    can(cidrhost(local.cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", local.cidr)) ? [] : ["network.cidr \"${local.cidr}\" must be an IPv4 network such as 10.10.2.0/24"],
    try(cidrhost("${local.inv.network.gateway}/${local.prefix}", 0) == cidrhost(local.cidr, 0), false) ? [] : ["network.gateway must be an address in network.cidr ${local.cidr}"],
    [for f in ["node", "bridge"] : "proxmox.${f} is missing: name the Proxmox VE ${f}" if try(local.inv.proxmox[f], "") == ""],
    try(local.inv.proxmox.storage.disks, "") != "" ? [] : ["proxmox.storage.disks is missing: name the storage (content images) of the VM disks"],
    length(local.enabled) == 0 || can(regex("^[a-z_][a-z0-9_-]{0,31}$", local.user.name)) ? [] : ["user.name \"${try(local.user.name, "")}\" must be a Linux user name (lower-case letters, digits, _ and -)"],
    length(local.enabled) == 0 || try(length(local.user.ssh_public_keys) > 0, false) ? [] : ["user.ssh_public_keys is empty: the VMs' user logs in with these keys only"],
    flatten([for v in local.enabled : concat(
      try(length(v.name) > 0, false) ? [] : ["vms[${v.index}].name is missing"],
      length([for w in local.enabled : w if try(w.name, "") == try(v.name, "")]) < 2 ? [] : ["vms[${v.index}].name \"${try(v.name, "")}\" is another enabled VM's name too"],
      try(local.images[v.image], null) != null ? [] : ["vms[${v.index}].image \"${try(v.image, "")}\" is not a key of images (${join(", ", sort(keys(local.images)))})"],
      try(local.images[v.image], null) == null || try(tonumber(local.images[v.image].template_id), null) != null ? [] : ["images.${v.image}.template_id is missing: vms[${v.index}] is cloned from it"],
      try(can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", v.ip)) && cidrhost("${v.ip}/${local.prefix}", 0) == cidrhost(local.cidr, 0), false) ? [] : ["vms[${v.index}].ip \"${try(v.ip, "")}\" is not an address in network.cidr ${local.cidr}"],
      length([for w in local.vms : w if try(w.ip, "") == try(v.ip, "")]) < 2 ? [] : ["vms[${v.index}].ip ${try(v.ip, "")} is another VM's address too"],
      try(tonumber(v.vm_id), null) != null ? [] : ["vms[${v.index}].vm_id is missing"],
      [for x in local.ids : "vms[${v.index}].vm_id ${v.vm_id} is also ${x.field}: give each VM its own ID" if x.id != null && x.id == try(tonumber(v.vm_id), null) && x.field != "vms[${v.index}].vm_id"],
      [for f in ["cores", "memory_mib", "disk_gib"] : "vms[${v.index}].${f} is missing" if try(tonumber(v[f]), null) == null],
    )]),
  )
}

# Fails the plan, naming every field it refuses, while the inventory has a
# problem; the VMs are then not planned at all (module "vm"'s for_each is
# empty), so nothing is created or changed and no other error hides these.
resource "terraform_data" "inventory" {
  lifecycle {
    precondition {
      condition     = length(local.problems) == 0
      error_message = "${var.inventory_file} cannot be applied by the traditional-vms stack:\n- ${join("\n- ", local.problems)}"
    }
  }
}
