terraform {
  # 1.11 is what CI runs; later releases (and OpenTofu) read the same code.
  required_version = ">= 1.11"
}
