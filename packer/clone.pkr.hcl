# The golden template of a Linux distribution imported from its cloud image:
# Ubuntu, Debian, Arch Linux and NixOS. packer/<os>/<os>.pkr.hcl is a link
# to this file, and the directory Packer runs in names the OS. The template
# is a full clone of the base VM `images:import` made (images.<os>.base_vm_id),
# converted to a template at images.<os>.template_id. How the clone is
# provisioned is another file of the directory: packer/ansible.pkr.hcl
# (Ubuntu, Debian, Arch: ansible/playbooks/packer_provision.yml) or
# packer/nixos/configure.pkr.hcl (NixOS: configuration.nix and
# nixos-rebuild switch). Every fact comes from homelab.yaml; the connection
# comes from the environment (packer/connection.pkr.hcl, linked beside it).
# Build it with the images:build target (see packer/<os>/README.md).

packer {
  required_version = ">= 1.12.0"
  required_plugins {
    proxmox = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/proxmox"
    }
  }
}

variable "base_vm_name" {
  type        = string
  default     = ""
  description = "Name of the base VM at images.<os>.base_vm_id (the plugin clones by name); empty: the name images:import gives it. The images:build target reads it from the VM."
}

variable "communicator" {
  type        = string
  default     = "ssh"
  description = "ssh (a real build) or none: no connection to the guest and no provisioner (a build against the simulator)."
  validation {
    condition     = contains(["ssh", "none"], var.communicator)
    error_message = "The communicator is ssh or none."
  }
}

locals {
  # The OS is the name of the directory Packer builds in (packer/<os>).
  os             = basename(abspath(path.root))
  title          = { ubuntu = "Ubuntu", debian = "Debian", arch = "Arch Linux", nixos = "NixOS" }[local.os]
  inventory_file = abspath(var.inventory_file != "" ? var.inventory_file : "${path.root}/../../homelab.yaml")
  homelab        = yamldecode(file(local.inventory_file))
  image          = local.homelab.images[local.os]
  proxmox        = local.homelab.proxmox
  release        = replace(local.image.release, ".", "-")
  base_vm_name   = var.base_vm_name != "" ? var.base_vm_name : "${local.os}-${local.release}-base"
  template_name  = "${local.os}-${local.release}-template"
  repository     = abspath("${path.root}/../..")
  user           = local.homelab.user
  provision      = var.communicator != "none"
  # The drive images:import attaches the image as: NixOS's image installs
  # GRUB for virtio0 (/dev/vda), the others boot from scsi0.
  boot_drive = local.os == "nixos" ? "virtio0" : "scsi0"
}

source "proxmox-clone" "golden" {
  proxmox_url              = var.proxmox_url
  username                 = var.proxmox_token_id
  token                    = var.proxmox_token_secret
  insecure_skip_tls_verify = var.insecure_skip_tls_verify
  node                     = local.proxmox.node
  task_timeout             = "10m"

  clone_vm   = local.base_vm_name
  full_clone = true
  vm_id      = local.image.template_id
  vm_name    = local.template_name

  # Plugin 1.1.0 writes all of these to the clone and puts its own defaults
  # (lsi, kvm64, 512 MiB, one core, ostype other, no VGA, empty boot order)
  # in place of any left unset: each is what the base VM has.
  scsi_controller = "virtio-scsi-single"
  cpu_type        = "host"
  cores           = 2
  sockets         = 1
  memory          = 2048
  os              = "l26"
  bios            = "seabios"
  boot            = "order=${local.boot_drive}"
  qemu_agent      = true
  onboot          = false
  vga {
    type = "serial0"
  }
  network_adapters {
    model    = "virtio"
    bridge   = local.proxmox.bridge
    firewall = false
  }
  # The base VM's disk (local.boot_drive, on proxmox.storage.disks) and cloud-init
  # drive (ide2) come with the clone: no disk and no second cloud-init
  # drive are added.
  cloud_init = false

  # The plugin puts a throw-away key for ssh_username in the clone's
  # cloud-init; the image's default user logs in with it.
  communicator = var.communicator
  ssh_username = local.image.default_user
  ssh_timeout  = "20m"

  template_name        = local.template_name
  template_description = "${local.title} ${local.image.release} golden template (VM ${local.image.template_id}), built by Packer from packer/${local.os}/ (packer/clone.pkr.hcl): a full clone of base VM ${local.image.base_vm_id} (${local.base_vm_name}), ${local.provision ? local.provisioned : "not provisioned (communicator off)"}. Built ${timestamp()}."
}
