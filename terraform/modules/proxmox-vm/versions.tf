terraform {
  # 1.11 is what CI runs; later releases (and OpenTofu) read the same code.
  required_version = ">= 1.11"
  required_providers {
    proxmox = {
      source = "bpg/proxmox"
      # The floor is homelab.yaml's tools.terraform-provider-proxmox, the
      # release that builds offline here (the versions lint step holds the
      # two equal); "~>" also admits the later 0.x operators install from
      # the registry.
      version = "~> 0.80"
    }
  }
}
