// Package packer builds the golden VM templates of packer/<os>/ with the
// real Packer binary and checks the result through the Proxmox API.
//
// A Template is one directory packer/<name>/ holding <name>.pkr.hcl; its
// source block (type, name, scsi_controller, cpu_type) is read from the
// file with the HCL parser, so the checks after a build compare the VM
// with what the file asks for. A Runner runs packer init, fmt -check,
// validate and build for a template, with the inventory file and the
// Proxmox connection handed over only in the child's environment
// (PKR_VAR_*, SSL_CERT_FILE): the token secret is never an argument and
// never logged. Packer's -machine-readable output is parsed into Events,
// so a caller can show which step or provisioner a build is on.
//
// Build wraps one template build in the checks Packer's exit code cannot
// give (its proxmox plugin swallows start and shutdown errors): before,
// the base VM a proxmox-clone template clones exists as a template and is
// listed by name; after, the VM's task list holds a start, a shutdown and
// the template conversion that ended OK, and the VM at
// images.<os>.template_id is a template
// with its disks, the guest agent on and the SCSI controller and CPU type
// the file sets, named and tagged as the templates are, with the build's
// throw-away SSH key removed from its cloud-init settings.
//
// The package never prints: progress goes to the slog.Logger of
// WithLogger, Packer's output lines to the writer of WithOutput and its
// events to the function of WithEvents.
//
// TemplateInputs gathers what a template needs besides the inventory and
// the connection (nothing for the Linux templates). For the Windows
// template (packer/windows, proxmox-iso), WindowsMediaVars turns
// images.windows.media into its ISO variables, WindowsPassword
// reads the Administrator password from its SOPS-encrypted secret in
// memory and hands it to Packer through the environment as a sensitive
// variable (windows_secret.go), and EnsureSecureBootTPM gives the template
// the Secure Boot EFI disk and TPM 2.0 state plugin 1.1.0 cannot create
// (windows_firmware.go).
package packer
