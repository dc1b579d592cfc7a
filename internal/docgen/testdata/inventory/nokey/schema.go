// Package schema is a fixture inventory with a mapping without its Key line.
package schema

// File is the fixture's top level.
type File struct {
	// Tool versions.
	Tools map[string]string `yaml:"tools"`
}
