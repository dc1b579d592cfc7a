// Package schema is a fixture inventory for internal/docgen's tests.
package schema

import "net/netip"

// File is the fixture's top level.
type File struct {
	// Format version.
	Schema int `yaml:"schema"`
	// The LAN's two ranges.
	Ranges Ranges `yaml:"ranges"`
	// The machines.
	Hosts []Host `yaml:"hosts,omitempty"`
	// Images keyed by OS.
	// Key: <os>
	Images map[string]Image `yaml:"images"`
	// Tool versions.
	// Key: <name>
	// Value type: version
	// Value: The version of a tool,
	// e.g. `sops: 3.13.3`.
	Tools map[string]string `yaml:"tools"`
}

// Ranges share one struct type, documented once.
type Ranges struct {
	// Where the hosts are.
	Hosts Range `yaml:"hosts"`
	// Where the VMs are.
	VMs Range `yaml:"vms"`
}

// Range is a fixture range.
type Range struct {
	// First address.
	Start netip.Addr `yaml:"start"`
}

// Host is a fixture host.
type Host struct {
	// Host name; see docs/reference/other.md.
	// Type: name
	Name string `yaml:"name"`
	// Resolvers.
	DNS []netip.Addr `yaml:"dns"`
	// Search domains.
	Search []string `yaml:"search,omitempty"`
	// Enabled or not.
	Enabled bool `yaml:"enabled"`
}

// Image is a fixture image.
type Image struct {
	// Its VM ID.
	// Type: VM ID
	ID int `yaml:"id"`
	// The network it lives in.
	CIDR netip.Prefix `yaml:"cidr"`
}
