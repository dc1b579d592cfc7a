//go:build mage

package main

// Aliases names CleanUp with a dash, as the repository's aliases do.
var Aliases = map[string]any{
	"clean-up": CleanUp,
}
