# homelab.yaml, decoded, and what the stacks refuse in it. No resource and
# no provider: every value is known at plan.

locals {
  inv = yamldecode(file(var.file))

  cidr   = try(tostring(local.inv.network.cidr), "")
  prefix = try(split("/", local.cidr)[1], "")
  nodes  = try([for n in local.inv.talos.nodes : n], [])
  vms    = try([for v in local.inv.vms : v], [])
  images = try({ for k, img in local.inv.images : k => img }, {})
  user   = try(local.inv.user, {})

  # The enabled VMs with their index in vms, which the messages name.
  enabled = [for i, v in local.vms : merge(v, { index = i }) if try(v.enabled, false) == true]

  # Every VM ID the inventory names, with its field: a node's or a VM's ID
  # must be none of the others (a template's, a node's or another VM's).
  ids = concat(
    [for i, n in local.nodes : { field = "talos.nodes[${i}].vm_id", id = try(tonumber(n.vm_id), null) }],
    [for i, v in local.vms : { field = "vms[${i}].vm_id", id = try(tonumber(v.vm_id), null) }],
    [{ field = "talos.template_id", id = try(tonumber(local.inv.talos.template_id), null) }],
    flatten([for k, img in local.images : [
      { field = "images.${k}.template_id", id = try(tonumber(img.template_id), null) },
      { field = "images.${k}.base_vm_id", id = try(tonumber(img.base_vm_id), null) },
    ]]),
  )

  # Every address the inventory gives a machine, with its field: a node's
  # or a VM's address must be none of the others (a host's, a service's, a
  # node's or another VM's, enabled or not: a disabled VM keeps its own).
  ips = concat(
    [for i, h in try([for h in local.inv.hosts : h], []) : { field = "hosts[${i}].ip", ip = try(tostring(h.ip), null) }],
    [for i, sv in try([for sv in local.inv.services : sv], []) : { field = "services[${i}].ip", ip = try(tostring(sv.ip), null) }],
    [for i, n in local.nodes : { field = "talos.nodes[${i}].ip", ip = try(tostring(n.ip), null) }],
    [for i, v in local.vms : { field = "vms[${i}].ip", ip = try(tostring(v.ip), null) }],
  )

  # The checks both stacks make, then each stack's.
  common = concat(
    can(cidrhost(local.cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", local.cidr)) ? [] : ["network.cidr \"${local.cidr}\" must be an IPv4 network such as 10.10.2.0/24"],
    try(cidrhost("${local.inv.network.gateway}/${local.prefix}", 0) == cidrhost(local.cidr, 0), false) ? [] : ["network.gateway must be an address in network.cidr ${local.cidr}"],
    [for f in ["node", "bridge"] : "proxmox.${f} is missing: name the Proxmox VE ${f}" if try(local.inv.proxmox[f], "") == ""],
    try(local.inv.proxmox.storage.disks, "") != "" ? [] : ["proxmox.storage.disks is missing: name the storage (content images) of the VM disks"],
  )

  talos_problems = concat(
    local.common,
    try(tonumber(local.inv.talos.template_id), null) != null ? [] : ["talos.template_id is missing: the VM ID of the Talos template (talos:import builds it)"],
    length(local.nodes) > 0 ? [] : ["talos.nodes is empty: declare at least one node"],
    length([for n in local.nodes : n if try(n.role, "") == "controlplane"]) > 0 || length(local.nodes) == 0 ? [] : ["talos.nodes has no node with role controlplane: a cluster needs one"],
    flatten([for i, n in local.nodes : concat(
      [for p in local.entry_problems["talos.nodes[${i}]"] : p],
      contains(["controlplane", "worker"], try(n.role, "")) ? [] : ["talos.nodes[${i}].role is \"${try(n.role, "")}\": it must be controlplane or worker"],
      try(n.gpu.enabled, false) != true || try(n.gpu.mapping, "") != "" ? [] : ["talos.nodes[${i}].gpu.mapping is missing while gpu.enabled is true: name the host's PCI resource mapping"],
    )]),
  )

  vms_problems = concat(
    local.common,
    length(local.enabled) == 0 || can(regex("^[a-z_][a-z0-9_-]{0,31}$", local.user.name)) ? [] : ["user.name \"${try(local.user.name, "")}\" must be a Linux user name (lower-case letters, digits, _ and -)"],
    length(local.enabled) == 0 || try(length(local.user.ssh_public_keys) > 0, false) ? [] : ["user.ssh_public_keys is empty: the VMs' user logs in with these keys only"],
    flatten([for v in local.enabled : concat(
      [for p in local.entry_problems["vms[${v.index}]"] : p],
      try(local.images[v.image], null) != null ? [] : ["vms[${v.index}].image \"${try(v.image, "")}\" is not a key of images (${join(", ", sort(keys(local.images)))})"],
      try(local.images[v.image], null) == null || try(tonumber(local.images[v.image].template_id), null) != null ? [] : ["images.${v.image}.template_id is missing: vms[${v.index}] is cloned from it"],
    )]),
  )

  # The checks of one VM entry (a node or an enabled VM), by its path: its
  # name present and unique among its kind, its address in network.cidr and
  # unique (local.ips), its ID present and unique (local.ids), its sizes
  # present.
  entries = concat(
    [for i, n in local.nodes : { path = "talos.nodes[${i}]", entry = n, kind = "node", all = local.nodes, sizes = ["cores", "memory_mib", "os_disk_gib"] }],
    [for v in local.enabled : { path = "vms[${v.index}]", entry = v, kind = "enabled VM", all = local.enabled, sizes = ["cores", "memory_mib", "disk_gib"] }],
  )
  entry_problems = { for e in local.entries : e.path => concat(
    try(length(e.entry.name) > 0, false) ? [] : ["${e.path}.name is missing"],
    length([for m in e.all : m if try(m.name, "") == try(e.entry.name, "")]) < 2 ? [] : ["${e.path}.name \"${try(e.entry.name, "")}\" is another ${e.kind}'s name too"],
    try(can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", e.entry.ip)) && cidrhost("${e.entry.ip}/${local.prefix}", 0) == cidrhost(local.cidr, 0), false) ? [] : ["${e.path}.ip \"${try(e.entry.ip, "")}\" is not an address in network.cidr ${local.cidr}"],
    [for x in local.ips : "${e.path}.ip ${e.entry.ip} is also ${x.field}: give each machine its own address" if x.ip != null && x.ip == try(tostring(e.entry.ip), null) && x.field != "${e.path}.ip"],
    try(tonumber(e.entry.vm_id), null) != null ? [] : ["${e.path}.vm_id is missing"],
    [for x in local.ids : "${e.path}.vm_id ${e.entry.vm_id} is also ${x.field}: give each VM its own ID" if x.id != null && x.id == try(tonumber(e.entry.vm_id), null) && x.field != "${e.path}.vm_id"],
    [for f in e.sizes : "${e.path}.${f} is missing" if try(tonumber(e.entry[f]), null) == null],
  ) }
}

locals {
  dns_servers    = [for s in try(local.inv.network.dns_servers, []) : tostring(s)]
  search_domains = try(local.inv.network.search_domains, [local.inv.network.domain], [])
}
