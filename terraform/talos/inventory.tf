# homelab.yaml, decoded, and what the talos stack refuses in it. Every
# problem names the field; variable "inventory_file"'s validation fails the
# plan while there is one, before any VM is created.

locals {
  inv = yamldecode(file(var.inventory_file))

  cidr   = try(tostring(local.inv.network.cidr), "")
  prefix = try(split("/", local.cidr)[1], "")
  nodes  = try([for n in local.inv.talos.nodes : n], [])
  vms    = try([for v in local.inv.vms : v], [])

  # Every VM ID the inventory names, with its field: a node's ID must be
  # none of the others (a template's, another node's or a traditional VM's).
  ids = concat(
    [for i, n in local.nodes : { field = "talos.nodes[${i}].vm_id", id = try(tonumber(n.vm_id), null) }],
    [for i, v in local.vms : { field = "vms[${i}].vm_id", id = try(tonumber(v.vm_id), null) }],
    [{ field = "talos.template_id", id = try(tonumber(local.inv.talos.template_id), null) }],
    flatten([for k, img in try(local.inv.images, {}) : [
      { field = "images.${k}.template_id", id = try(tonumber(img.template_id), null) },
      { field = "images.${k}.base_vm_id", id = try(tonumber(img.base_vm_id), null) },
    ]]),
  )

  # in_cidr[i] says whether node i's ip is an IPv4 address in network.cidr.
  in_cidr = [for n in local.nodes : try(
    can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", n.ip)) && cidrhost("${n.ip}/${local.prefix}", 0) == cidrhost(local.cidr, 0),
    false,
  )]

  problems = concat(
    can(cidrhost(local.cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", local.cidr)) ? [] : ["network.cidr \"${local.cidr}\" must be an IPv4 network such as 10.10.2.0/24"],
    try(cidrhost("${local.inv.network.gateway}/${local.prefix}", 0) == cidrhost(local.cidr, 0), false) ? [] : ["network.gateway must be an address in network.cidr ${local.cidr}"],
    [for f in ["node", "bridge"] : "proxmox.${f} is missing: name the Proxmox VE ${f}" if try(local.inv.proxmox[f], "") == ""],
    try(local.inv.proxmox.storage.disks, "") != "" ? [] : ["proxmox.storage.disks is missing: name the storage (content images) of the VM disks"],
    try(tonumber(local.inv.talos.template_id), null) != null ? [] : ["talos.template_id is missing: the VM ID of the Talos template (talos:import builds it)"],
    length(local.nodes) > 0 ? [] : ["talos.nodes is empty: declare at least one node"],
    length([for n in local.nodes : n if try(n.role, "") == "controlplane"]) > 0 || length(local.nodes) == 0 ? [] : ["talos.nodes has no node with role controlplane: a cluster needs one"],
    flatten([for i, n in local.nodes : concat(
      try(length(n.name) > 0, false) ? [] : ["talos.nodes[${i}].name is missing"],
      length([for m in local.nodes : m if try(m.name, "") == try(n.name, "")]) < 2 ? [] : ["talos.nodes[${i}].name \"${try(n.name, "")}\" is another node's name too"],
      contains(["controlplane", "worker"], try(n.role, "")) ? [] : ["talos.nodes[${i}].role is \"${try(n.role, "")}\": it must be controlplane or worker"],
      local.in_cidr[i] ? [] : ["talos.nodes[${i}].ip \"${try(n.ip, "")}\" is not an address in network.cidr ${local.cidr}"],
      length([for m in local.nodes : m if try(m.ip, "") == try(n.ip, "")]) < 2 ? [] : ["talos.nodes[${i}].ip ${try(n.ip, "")} is another node's address too"],
      try(tonumber(n.vm_id), null) != null ? [] : ["talos.nodes[${i}].vm_id is missing"],
      [for x in local.ids : "talos.nodes[${i}].vm_id ${n.vm_id} is also ${x.field}: give each VM its own ID" if x.id != null && x.id == try(tonumber(n.vm_id), null) && x.field != "talos.nodes[${i}].vm_id"],
      [for f in ["cores", "memory_mib", "os_disk_gib"] : "talos.nodes[${i}].${f} is missing" if try(tonumber(n[f]), null) == null],
      try(n.gpu.enabled, false) != true || try(n.gpu.mapping, "") != "" ? [] : ["talos.nodes[${i}].gpu.mapping is missing while gpu.enabled is true: name the host's PCI resource mapping"],
    )]),
  )
}

# Fails the plan, naming every field it refuses, while the inventory has a
# problem; the VMs are then not planned at all (module "node"'s for_each is
# empty), so nothing is created or changed and no other error hides these.
resource "terraform_data" "inventory" {
  lifecycle {
    precondition {
      condition     = length(local.problems) == 0
      error_message = "${var.inventory_file} cannot be applied by the talos stack:\n- ${join("\n- ", local.problems)}"
    }
  }
}
