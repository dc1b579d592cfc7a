# How Ubuntu, Debian and Arch Linux golden templates are provisioned:
# ansible/playbooks/packer_provision.yml (the baseline role, then
# template_cleanup) over SSH. packer/<os>/provision.pkr.hcl is a link to this
# file; the source is packer/clone.pkr.hcl's.

packer {
  required_plugins {
    ansible = {
      version = ">= 1.1.2"
      source  = "github.com/hashicorp/ansible"
    }
  }
}

locals {
  provisioned = "provisioned with ansible/playbooks/packer_provision.yml (baseline, template_cleanup) for ${local.user.name}"
}

build {
  name    = "golden"
  sources = ["source.proxmox-clone.golden"]

  provisioner "ansible" {
    # With the communicator off there is no guest to provision.
    except          = local.provision ? [] : ["proxmox-clone.golden"]
    playbook_file   = "${local.repository}/ansible/playbooks/packer_provision.yml"
    user            = local.image.default_user
    use_proxy       = false
    extra_arguments = ["--extra-vars", "homelab_file=${local.inventory_file}"]
    ansible_env_vars = [
      "ANSIBLE_CONFIG=${local.repository}/ansible/ansible.cfg",
      "ANSIBLE_ROLES_PATH=${local.repository}/ansible/roles",
      "ANSIBLE_HOST_KEY_CHECKING=False",
    ]
  }
}
