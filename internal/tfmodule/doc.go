// Package tfmodule documents and tests the Terraform modules under
// terraform/modules: Parse reads a module's inputs (its variable blocks)
// and outputs with HashiCorp's HCL, and Markdown renders them as the tables
// internal/docgen writes between the markers of the module's README.md
// (go run mage.go docs). The package's tests run the real terraform against
// the modules: fmt, validate, plans with bad inputs and an apply against
// pvesim (internal/tfaccept).
package tfmodule
