terraform {
  required_version = ">= 1.11"
}

locals {
  names   = ["a"]
}