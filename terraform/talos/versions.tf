terraform {
  # 1.11 is what CI runs; validation blocks that read the decoded inventory
  # (local.inv) need 1.9 or later. Later releases read the same code.
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

# Configured only from the environment: PROXMOX_VE_ENDPOINT and
# PROXMOX_VE_API_TOKEN ("user@realm!tokenid=secret"), and PROXMOX_VE_INSECURE
# when the host's certificate is not trusted. Nothing secret is written here.
provider "proxmox" {}
