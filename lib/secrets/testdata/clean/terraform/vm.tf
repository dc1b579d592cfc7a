resource "proxmox_virtual_environment_vm" "talos" {
  smbios {
    uuid = "5b0c4f5e-2f7a-4d39-9a57-0c1f7d7c2e11"
  }
}
