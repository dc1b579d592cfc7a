// Package tfmodule documents and tests the Terraform modules under
// terraform/modules: README renders a module's inputs (its variable blocks)
// and outputs as Markdown tables, parsed with HashiCorp's HCL, between two
// markers of the module's README.md; the package's tests hold each README to
// its module (go test ./internal/tfmodule -update rewrites it), and run the
// real terraform against the modules: fmt, validate, plans with bad inputs
// and an apply against pvesim (internal/tfaccept).
package tfmodule
