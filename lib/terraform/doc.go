// Package terraform runs the repository's Terraform stacks (terraform/talos
// and terraform/traditional-vms) through terraform-exec with the terraform
// or tofu binary found on PATH.
//
// A Runner initialises a stack, plans it into a saved plan file and
// summarises that plan (creates, updates with their changed attributes,
// replacements, destroys), applies exactly that saved plan without asking,
// destroys through a destroy plan, and reads a stack's outputs. Applying a
// plan that destroys or replaces a VM is refused unless allowed. A plan
// that changes nothing is reported as such and nothing is applied.
//
// The Proxmox connection comes from the same settings the Go client reads
// (proxmox.Config, usually proxmox.ConfigFromEnv) and is handed to the
// provider only in the child's environment (PROXMOX_VE_ENDPOINT,
// PROXMOX_VE_API_TOKEN, SSL_CERT_FILE); the secret is never logged. Before
// a plan, WithHostCheck checks read-only that the host holds what the
// stack needs (templates, PCI mappings, a disk storage with images
// content) and refuses the run naming the inventory field.
//
// The package never prints: progress goes to the slog.Logger of
// WithLogger, terraform's own output to the writer of WithStdout.
package terraform
