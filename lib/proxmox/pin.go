package proxmox

import "fmt"

// PinUnsupportedError is a connection pinned by fingerprint only
// (PROXMOX_TLS_FINGERPRINT) handed to a tool that cannot pin a
// certificate, such as Terraform's provider or Packer's plugin: the tool
// needs the host's CA file, or verification skipped explicitly.
type PinUnsupportedError struct {
	// Tool names the tool, e.g. "the Terraform provider".
	Tool string
	// Fingerprint is the pinned fingerprint.
	Fingerprint string
}

// Error says what to set instead.
func (e *PinUnsupportedError) Error() string {
	return fmt.Sprintf("%s=%s pins the host certificate, which %s cannot do: set %s to the host's CA certificate "+
		"(/etc/pve/pve-root-ca.pem on the host) so %s verifies TLS, or %s=1 to skip verification explicitly",
		EnvTLSFingerprint, e.Fingerprint, e.Tool, EnvCAFile, e.Tool, EnvTLSInsecure)
}
