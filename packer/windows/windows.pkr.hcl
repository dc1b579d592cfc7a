# Windows Server 2025 golden template: proxmox-iso from the installer ISO the
# operator provides, an unattended install (autounattend.xml rendered from
# homelab.yaml), WinRM over HTTPS, the windows_baseline Ansible role, sysprep
# generalize, then a template at images.windows.template_id. README.md beside
# this file says what to provide and how to run it.

packer {
  required_version = ">= 1.12.0"
  required_plugins {
    proxmox = {
      # The floor is homelab.yaml's tools.packer-plugin-proxmox, the version
      # that builds here (the versions lint step holds the two equal); its
      # options are the only ones this template uses.
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/proxmox"
    }
  }
}

variable "windows_admin_password" {
  type        = string
  sensitive   = true
  default     = ""
  description = "Administrator password; set PKR_VAR_windows_admin_password from secrets/windows.enc.yaml, never a file."
  validation {
    condition     = length(var.windows_admin_password) >= 14
    error_message = "The variable windows_admin_password must hold at least 14 characters: set PKR_VAR_windows_admin_password from the SOPS secret secrets/windows.enc.yaml (key windows_admin_password)."
  }
}

variable "windows_iso_file" {
  type        = string
  default     = ""
  description = "Installer ISO already on the PVE ISO storage, as a volume ID (local:iso/SERVER_EVAL_x64FRE_en-us.iso)."
}

variable "windows_iso_url" {
  type        = string
  default     = ""
  description = "Installer ISO URL (or local path) Packer downloads and uploads to the ISO storage; needs windows_iso_checksum."
}

variable "windows_iso_checksum" {
  type        = string
  default     = ""
  description = "Checksum of windows_iso_url, sha256:<hex>."
}

variable "virtio_iso_file" {
  type        = string
  default     = ""
  description = "virtio-win ISO already on the PVE ISO storage (local:iso/virtio-win.iso)."
}

variable "virtio_iso_url" {
  type        = string
  default     = ""
  description = "virtio-win ISO URL (or local path) Packer downloads and uploads; needs virtio_iso_checksum."
}

variable "virtio_iso_checksum" {
  type        = string
  default     = ""
  description = "Checksum of virtio_iso_url, sha256:<hex>."
}

variable "windows_image_index" {
  type        = number
  default     = 4
  description = "Image in install.wim: 4 is Datacenter (Desktop Experience) on retail and evaluation media."
}

variable "windows_product_key" {
  type        = string
  default     = ""
  sensitive   = true
  description = "Product key; empty for evaluation media."
}

variable "windows_ui_language" {
  type        = string
  default     = "en-US"
  description = "Setup and display language; must be on the installer media."
}

variable "windows_time_zone" {
  type        = string
  default     = ""
  description = "Windows time zone name (tzutil /l); empty means the one of user.timezone."
}

variable "communicator" {
  type        = string
  default     = "winrm"
  description = "winrm for a real build; none for the simulator (no guest to talk to, no provisioning)."
  validation {
    condition     = contains(["winrm", "none"], var.communicator)
    error_message = "The variable communicator must be winrm or none."
  }
}

variable "disk_size" {
  type    = string
  default = "64G"
}

variable "disk_storage_type" {
  type        = string
  default     = "zfspool"
  description = "PVE storage type of proxmox.storage.disks (the plugin needs it to pick the volume format)."
}

variable "cores" {
  type    = number
  default = 4
}

variable "memory" {
  type    = number
  default = 8192
}

variable "boot_wait" {
  type        = string
  default     = "2s"
  description = "Wait after start before pressing keys at OVMF's \"Press any key to boot from CD or DVD\" (it shows for about 5 s)."
}

locals {
  inventory_file = abspath(var.inventory_file != "" ? var.inventory_file : "${path.root}/../../homelab.yaml")
  repository     = abspath("${path.root}/../..")
  provision      = var.communicator != "none"
  inventory      = yamldecode(file(local.inventory_file))
  image          = local.inventory.images.windows
  proxmox        = local.inventory.proxmox
  user           = local.inventory.user

  # homelab.yaml's IANA zone as Windows names it (CLDR windowsZones); an
  # unknown zone is refused (set windows_time_zone instead).
  windows_zones = {
    "UTC"                 = "UTC"
    "Etc/UTC"             = "UTC"
    "America/El_Salvador" = "Central America Standard Time"
    "America/Guatemala"   = "Central America Standard Time"
    "America/Costa_Rica"  = "Central America Standard Time"
    "America/Mexico_City" = "Central Standard Time (Mexico)"
    "America/New_York"    = "Eastern Standard Time"
    "America/Chicago"     = "Central Standard Time"
    "America/Denver"      = "Mountain Standard Time"
    "America/Los_Angeles" = "Pacific Standard Time"
    "America/Bogota"      = "SA Pacific Standard Time"
    "Europe/London"       = "GMT Standard Time"
    "Europe/Berlin"       = "W. Europe Standard Time"
    "Europe/Madrid"       = "Romance Standard Time"
    "Europe/Paris"        = "Romance Standard Time"
  }
  time_zone = var.windows_time_zone != "" ? var.windows_time_zone : try(local.windows_zones[local.user.timezone], file("homelab.yaml user.timezone ${local.user.timezone} has no Windows name here: set windows_time_zone"))

  # en_US.UTF-8 -> en-US (a Windows locale name).
  locale = replace(split(".", local.user.locale)[0], "_", "-")

  # The password goes into XML: escape what XML would read as markup.
  password_xml = replace(replace(replace(replace(replace(var.windows_admin_password, "&", "&amp;"), "<", "&lt;"), ">", "&gt;"), "\"", "&quot;"), "'", "&apos;")

  unattend_vars = {
    password     = local.password_xml
    product_key  = var.windows_product_key
    image_index  = var.windows_image_index
    ui_language  = var.windows_ui_language
    locale       = local.locale
    time_zone    = local.time_zone
    admin_user   = local.image.default_user
    computername = "WIN-TEMPLATE"
  }
}

source "proxmox-iso" "windows" {
  proxmox_url              = var.proxmox_url
  username                 = var.proxmox_token_id
  token                    = var.proxmox_token_secret
  insecure_skip_tls_verify = var.insecure_skip_tls_verify
  node                     = local.proxmox.node
  task_timeout             = "10m"

  # No base VM for an ISO install: the build VM is created at the template's
  # ID and converted in place.
  vm_id                = local.image.template_id
  vm_name              = "windows-${local.image.release}-build"
  template_name        = "windows-${local.image.release}-template"
  template_description = "Windows Server ${local.image.release}, built by Packer from packer/windows (sysprep generalized)"

  iso_file         = var.windows_iso_file != "" ? var.windows_iso_file : null
  iso_url          = var.windows_iso_url != "" ? var.windows_iso_url : null
  iso_checksum     = var.windows_iso_url != "" ? var.windows_iso_checksum : null
  iso_storage_pool = local.proxmox.storage.iso
  unmount_iso      = true

  # The virtio-win drivers (storage and network for setup, the guest agent).
  additional_iso_files {
    device           = "sata0"
    iso_file         = var.virtio_iso_file != "" ? var.virtio_iso_file : null
    iso_url          = var.virtio_iso_url != "" ? var.virtio_iso_url : null
    iso_checksum     = var.virtio_iso_url != "" ? var.virtio_iso_checksum : null
    iso_storage_pool = local.proxmox.storage.iso
    unmount          = true
  }

  # The answer file and setup scripts, as a CD Packer builds, uploads and
  # deletes from the ISO storage when the build ends.
  additional_iso_files {
    device           = "sata1"
    iso_storage_pool = local.proxmox.storage.iso
    unmount          = true
    cd_label         = "UNATTEND"
    cd_content = {
      "autounattend.xml"      = templatefile("${path.root}/autounattend.xml.pkrtpl", local.unattend_vars)
      "sysprep-unattend.xml"  = templatefile("${path.root}/sysprep-unattend.xml.pkrtpl", local.unattend_vars)
      "setup/winrm-https.ps1" = file("${path.root}/setup/winrm-https.ps1")
      "setup/guest-agent.ps1" = file("${path.root}/setup/guest-agent.ps1")
      "setup/sysprep.ps1"     = file("${path.root}/setup/sysprep.ps1")
    }
  }

  machine         = "q35"
  bios            = "ovmf"
  efidisk         = local.proxmox.storage.disks
  os              = "win11"
  cpu_type        = "host"
  cores           = var.cores
  sockets         = 1
  memory          = var.memory
  scsi_controller = "virtio-scsi-single"
  qemu_agent      = true
  boot            = "order=scsi0;ide2"

  disks {
    type              = "scsi"
    disk_size         = var.disk_size
    storage_pool      = local.proxmox.storage.disks
    storage_pool_type = var.disk_storage_type
    format            = "raw"
    cache_mode        = "none"
    io_thread         = true
  }

  network_adapters {
    model    = "virtio"
    bridge   = local.proxmox.bridge
    firewall = false
  }

  # OVMF asks to press a key to boot from the CD, for about 5 s: a press a
  # second for 8 s from boot_wait covers a slow start (later presses land on
  # setup's loading screen, harmlessly). Once Windows is on the disk, scsi0
  # boots first and nothing waits.
  boot_wait         = var.boot_wait
  boot_key_interval = "100ms"
  boot_command      = [join("<wait1s>", [for i in range(8) : "<spacebar>"])]

  communicator   = var.communicator
  winrm_username = local.image.default_user
  winrm_password = var.windows_admin_password
  winrm_use_ssl  = true
  # The build VM's listener has a self-signed certificate made during setup
  # (setup/winrm-https.ps1); no CA knows it. See README.md.
  winrm_insecure = true
  winrm_use_ntlm = true
  winrm_port     = 5986
  winrm_timeout  = "3h"
}

build {
  sources = ["source.proxmox-iso.windows"]

  # windows_baseline over WinRM, then sysprep (generalize, OOBE, shutdown).
  # ansible-playbook runs from shell-local rather than the ansible
  # provisioner: with WinRM and use_proxy = false, packer-plugin-ansible
  # 1.1.2 puts the password on ansible-playbook's command line
  # (-e ansible_password=..., provisioner.go). Here it reaches Ansible only
  # through the environment Packer inherited (PKR_VAR_windows_admin_password).
  provisioner "shell-local" {
    # With the communicator off there is no guest to provision.
    except = local.provision ? [] : ["proxmox-iso.windows"]
    environment_vars = [
      "ANSIBLE_CONFIG=${local.repository}/ansible/ansible.cfg",
      "ANSIBLE_ROLES_PATH=${local.repository}/ansible/roles",
      "WINDOWS_BUILD_HOST=${build.Host}",
      "WINDOWS_BUILD_USER=${local.image.default_user}",
    ]
    inline = [
      "ansible-playbook -i '${abspath(path.root)}/ansible-inventory.yml' -e 'homelab_file=${local.inventory_file}' '${abspath(path.root)}/packer_windows.yml'",
    ]
  }
}
