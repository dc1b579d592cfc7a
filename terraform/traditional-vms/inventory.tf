# homelab.yaml, decoded and checked by the inventory module.
module "inventory" {
  source = "../modules/inventory"
  file   = var.inventory_file
}

locals {
  inv      = module.inventory.inventory
  problems = module.inventory.vms_problems
}

# Fails the plan, naming every field it refuses, while the inventory has a
# problem; the VMs are then not planned at all (module "vm"'s for_each is
# empty), so nothing is created or changed and no other error hides these.
resource "terraform_data" "inventory" {
  lifecycle {
    precondition {
      condition     = length(local.problems) == 0
      error_message = "${var.inventory_file} cannot be applied by the traditional-vms stack:\n- ${join("\n- ", local.problems)}"
    }
  }
}
