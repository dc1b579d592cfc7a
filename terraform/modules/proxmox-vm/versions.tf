terraform {
  # 1.11 is what CI runs; later releases (and OpenTofu) read the same code.
  required_version = ">= 1.11"
  required_providers {
    proxmox = {
      source = "bpg/proxmox"
      # Admits 0.80.0, the release that builds offline here, and the 0.9x
      # operators install from the registry.
      version = "~> 0.80"
    }
  }
}
