//go:build mage

package main

// CleanUp prints cleaned; it is listed under its alias, clean-up.
func CleanUp() { greet("cleaned") }
