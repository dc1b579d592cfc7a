// Package schema is a fixture inventory with a mapping of scalars without its Value line.
package schema

// File is the fixture's top level.
type File struct {
	// Tool versions.
	// Key: <name>
	Tools map[string]string `yaml:"tools"`
}
