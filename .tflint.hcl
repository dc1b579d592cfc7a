# tflint's configuration for every Terraform directory under terraform/.
# internal/tfcheck runs tflint with it in each one (go run mage.go test
# builds tflint into the tool cache); by hand, from the repository root:
#   tflint --chdir=terraform/modules/proxmox-vm --config="$PWD/.tflint.hcl"
config {
  # Local modules (../modules/...) are evaluated with their caller.
  call_module_type = "local"
}

# The terraform ruleset bundled in tflint: no plugin to download.
plugin "terraform" {
  enabled = true
  preset  = "all"
}
