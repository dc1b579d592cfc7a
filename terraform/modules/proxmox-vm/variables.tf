variable "node_name" {
  description = "Proxmox VE node the VM runs on (homelab.yaml proxmox.node)."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$", var.node_name))
    error_message = "node_name must be a host name label (letters, digits, hyphens; at most 63 characters)."
  }
}

variable "vm_id" {
  description = "VM ID; Proxmox VE accepts 100 to 999999999."
  type        = number
  validation {
    condition     = var.vm_id == floor(var.vm_id) && var.vm_id >= 100 && var.vm_id <= 999999999
    error_message = "vm_id must be a whole number from 100 to 999999999 (Proxmox VE reserves 0-99)."
  }
}

variable "name" {
  description = "VM name, a DNS name as Proxmox VE requires."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$", var.name))
    error_message = "name must be a DNS name (labels of letters, digits and inner hyphens, at most 63 characters each)."
  }
}

variable "template_id" {
  description = "VM ID of the template the VM is cloned from."
  type        = number
  validation {
    condition     = var.template_id == floor(var.template_id) && var.template_id >= 100 && var.template_id <= 999999999
    error_message = "template_id must be a whole number from 100 to 999999999."
  }
}

variable "full_clone" {
  description = "Full clone (true) or linked clone (false) of the template."
  type        = bool
  default     = true
}

variable "cores" {
  description = "CPU cores."
  type        = number
  validation {
    condition     = var.cores == floor(var.cores) && var.cores >= 1 && var.cores <= 512
    error_message = "cores must be a whole number from 1 to 512."
  }
}

variable "cpu_type" {
  description = "QEMU CPU type; host passes the host CPU's features through (Talos and GPU passthrough need it)."
  type        = string
  default     = "host"
  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]+$", var.cpu_type))
    error_message = "cpu_type must be a QEMU CPU model name such as host or x86-64-v2-AES."
  }
}

variable "memory_mib" {
  description = "Memory in MiB."
  type        = number
  validation {
    condition     = var.memory_mib == floor(var.memory_mib) && var.memory_mib >= 16
    error_message = "memory_mib must be a whole number of MiB, at least 16 (Proxmox VE's minimum)."
  }
}

variable "machine" {
  description = "QEMU machine type, as the template has it."
  type        = string
  default     = "q35"
  validation {
    condition     = contains(["q35", "pc"], var.machine)
    error_message = "machine must be q35 or pc (i440fx); hostpci devices with pcie need q35."
  }
}

variable "bios" {
  description = "Firmware, as the template has it: ovmf (UEFI, with an EFI disk) or seabios."
  type        = string
  default     = "ovmf"
  validation {
    condition     = contains(["ovmf", "seabios"], var.bios)
    error_message = "bios must be ovmf or seabios."
  }
}

variable "scsi_hardware" {
  description = "SCSI controller, as the template has it."
  type        = string
  default     = "virtio-scsi-single"
  validation {
    condition     = contains(["lsi", "lsi53c810", "megasas", "pvscsi", "virtio-scsi-pci", "virtio-scsi-single"], var.scsi_hardware)
    error_message = "scsi_hardware must be one of lsi, lsi53c810, megasas, pvscsi, virtio-scsi-pci, virtio-scsi-single."
  }
}

variable "datastore" {
  description = "Storage of the OS disk, the EFI disk, the TPM state and the cloud-init drive (homelab.yaml proxmox.storage.disks); it must hold content images."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_.-]*[a-zA-Z0-9]$", var.datastore))
    error_message = "datastore must be a Proxmox VE storage ID (a letter, then letters, digits, -, _ or ., not ending in - _ or .)."
  }
}

variable "os_disk_gib" {
  description = "Size of the OS disk (scsi0) in GiB, at least the template's: the clone's disk is grown to it (Proxmox VE cannot shrink a disk)."
  type        = number
  validation {
    condition     = var.os_disk_gib == floor(var.os_disk_gib) && var.os_disk_gib >= 1
    error_message = "os_disk_gib must be a whole number of GiB, at least 1."
  }
}

variable "data_disk" {
  description = "An extra data disk (scsi1): its storage and size in GiB; null for none."
  type = object({
    datastore = string
    size_gib  = number
  })
  default = null
  validation {
    condition     = var.data_disk == null || can(regex("^[a-zA-Z][a-zA-Z0-9_.-]*[a-zA-Z0-9]$", var.data_disk.datastore))
    error_message = "data_disk.datastore must be a Proxmox VE storage ID."
  }
  validation {
    condition     = var.data_disk == null || try(var.data_disk.size_gib == floor(var.data_disk.size_gib) && var.data_disk.size_gib >= 1, false)
    error_message = "data_disk.size_gib must be a whole number of GiB, at least 1."
  }
}

variable "bridge" {
  description = "Linux bridge the NIC is on (homelab.yaml proxmox.bridge)."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$", var.bridge))
    error_message = "bridge must be a Linux interface name (a letter, then letters, digits, -, _ or .; at most 15 characters), such as vmbr0."
  }
}

variable "vlan_id" {
  description = "VLAN tag of the NIC; null for untagged."
  type        = number
  default     = null
  validation {
    condition     = var.vlan_id == null || try(var.vlan_id == floor(var.vlan_id) && var.vlan_id >= 1 && var.vlan_id <= 4094, false)
    error_message = "vlan_id must be null or a whole number from 1 to 4094."
  }
}

variable "cloud_init" {
  description = "Cloud-init settings (a drive on datastore): static IPv4 in CIDR form, gateway, DNS servers, search domain, and a user with SSH keys (user = null for none); null for no cloud-init drive."
  type = object({
    ipv4_address  = string
    gateway       = string
    dns_servers   = optional(list(string), [])
    search_domain = optional(string)
    user = optional(object({
      name     = string
      ssh_keys = list(string)
    }))
  })
  default = null
  validation {
    condition = var.cloud_init == null || can(
      regex("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2])$", var.cloud_init.ipv4_address)
    )
    error_message = "cloud_init.ipv4_address must be an IPv4 address with its prefix length, such as 10.10.2.10/24."
  }
  validation {
    condition = var.cloud_init == null || can(
      regex("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$", var.cloud_init.gateway)
    )
    error_message = "cloud_init.gateway must be an IPv4 address without a prefix length, such as 10.10.2.1."
  }
  validation {
    condition = var.cloud_init == null || try(
      cidrhost(var.cloud_init.ipv4_address, 0) == cidrhost("${var.cloud_init.gateway}/${split("/", var.cloud_init.ipv4_address)[1]}", 0),
      false
    )
    error_message = "cloud_init.gateway must be in the network of cloud_init.ipv4_address."
  }
  validation {
    condition = var.cloud_init == null || alltrue([
      for s in try(var.cloud_init.dns_servers, []) : can(regex("^[0-9a-fA-F.:]+$", s)) && can(cidrhost("${s}/${length(regexall(":", s)) > 0 ? 128 : 32}", 0))
    ])
    error_message = "cloud_init.dns_servers must be IP addresses."
  }
  validation {
    # A conditional, not ||: Terraform evaluates both sides of ||.
    condition     = try(var.cloud_init.user, null) == null ? true : can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.cloud_init.user.name))
    error_message = "cloud_init.user.name must be a Linux user name (lower-case letters, digits, _ and -, starting with a letter or _; at most 32 characters)."
  }
  validation {
    condition = try(var.cloud_init.user, null) == null ? true : (
      length(var.cloud_init.user.ssh_keys) > 0 &&
      alltrue([for k in var.cloud_init.user.ssh_keys : can(regex("^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/=]+( .*)?$", k))])
    )
    error_message = "cloud_init.user.ssh_keys must hold at least one OpenSSH public key (ssh-ed25519, ssh-rsa, ecdsa-sha2-*, sk-*), one per entry."
  }
}

variable "agent" {
  description = "Enable the QEMU guest agent (the guest must run qemu-ga; the provider then waits for it after a start)."
  type        = bool
  default     = true
}

variable "role" {
  description = "Role tag of the VM, such as controlplane, worker or a service name."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9_][a-z0-9_+.-]*$", var.role))
    error_message = "role must be a Proxmox VE tag: lower-case letters, digits and _ + . -, not starting with + . or -."
  }
}

variable "os" {
  description = "Operating system tag of the VM, such as talos or debian."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9_][a-z0-9_+.-]*$", var.os))
    error_message = "os must be a Proxmox VE tag: lower-case letters, digits and _ + . -, not starting with + . or -."
  }
}

variable "extra_tags" {
  description = "More tags, after infra-managed, role and os."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for t in var.extra_tags : can(regex("^[a-z0-9_][a-z0-9_+.-]*$", t))])
    error_message = "extra_tags must be Proxmox VE tags: lower-case letters, digits and _ + . -, not starting with + . or -."
  }
}

variable "pci_mapping" {
  description = "Name of a PCI resource mapping (Datacenter > Resource Mappings) passed through as hostpci0 with pcie and the ROM BAR on; null for none."
  type        = string
  default     = null
  validation {
    condition     = var.pci_mapping == null || can(regex("^[a-zA-Z][a-zA-Z0-9_-]+$", var.pci_mapping))
    error_message = "pci_mapping must be a Proxmox VE mapping ID (a letter, then letters, digits, _ or -; at least 2 characters)."
  }
}

variable "tpm" {
  description = "Add a vTPM (tpmstate0, version v2.0) on datastore, for guests that seal keys to it (Talos disk encryption)."
  type        = bool
  default     = false
}

variable "started" {
  description = "Start the VM after creating it, and keep it running."
  type        = bool
  default     = true
}

variable "on_boot" {
  description = "Start the VM when the host boots."
  type        = bool
  default     = true
}
