# How the NixOS golden template is configured: declaratively, no Ansible. A
# configuration.nix rendered from homelab.yaml (configuration.nix.pkrtpl:
# user, SSH keys, time zone, locale, guest agent, cloud-init) is uploaded
# and applied with nixos-rebuild switch, then the clone is cleaned so each
# VM made from it is unique. The source is packer/clone.pkr.hcl's
# (nixos.pkr.hcl links to it).

locals {
  provisioned = "configured by configuration.nix (rendered from homelab.yaml for ${local.user.name}) and nixos-rebuild switch"

  # A Nix string literal's content: backslash, double quote and ${ escaped.
  nix_strings = { for k, v in { user = local.user.name, timezone = local.user.timezone, locale = local.user.locale } :
    k => replace(replace(replace(v, "\\", "\\\\"), "\"", "\\\""), "$${", "\\$${")
  }
  nix_keys = [for k in local.user.ssh_public_keys : replace(replace(replace(k, "\\", "\\\\"), "\"", "\\\""), "$${", "\\$${")]
  configuration_nix = templatefile("${path.root}/configuration.nix.pkrtpl", {
    user     = local.nix_strings.user
    timezone = local.nix_strings.timezone
    locale   = local.nix_strings.locale
    keys     = local.nix_keys
    shell    = basename(local.user.shell)
    release  = local.image.release
  })
}

build {
  name    = "golden"
  sources = ["source.proxmox-clone.golden"]

  # With the communicator off there is no guest to configure.
  provisioner "file" {
    except      = local.provision ? [] : ["proxmox-clone.golden"]
    content     = local.configuration_nix
    destination = "/tmp/configuration.nix"
  }

  provisioner "shell" {
    except = local.provision ? [] : ["proxmox-clone.golden"]
    inline = [
      "set -eu",
      "sudo install -m 0644 -o root -g root /tmp/configuration.nix /etc/nixos/configuration.nix",
      "rm -f /tmp/configuration.nix",
      "sudo nix-channel --list | grep -q '^nixos ' || sudo nix-channel --add https://nixos.org/channels/nixos-${local.image.release} nixos",
      "sudo nix-channel --update nixos",
      "sudo nixos-rebuild switch",
      "sudo nix-collect-garbage --delete-older-than 1d",
    ]
  }

  # What template_cleanup does on the other Linux templates: every clone
  # gets its own machine ID and SSH host keys and runs cloud-init again.
  provisioner "shell" {
    except = local.provision ? [] : ["proxmox-clone.golden"]
    inline = [
      "set -eu",
      "sudo truncate -s 0 /etc/machine-id",
      "sudo rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*",
      "sudo cloud-init clean --logs --seed",
      "sudo journalctl --rotate && sudo journalctl --vacuum-time=1s",
      "rm -f ~/.bash_history && sudo rm -f /root/.bash_history",
    ]
  }
}
