// Package inventory is a fixture schema: the reference lacks the row of name.
package inventory

// Inventory is the fixture's top level.
type Inventory struct {
	// Format version.
	Schema int `yaml:"schema"`
	// The homelab's name.
	Name string `yaml:"name"`
}
