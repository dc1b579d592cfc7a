// Package schema is a fixture inventory with a field without a doc comment.
package schema

// File is the fixture's top level.
type File struct {
	// Documented.
	A int `yaml:"a"`
	B int `yaml:"b"`
}
