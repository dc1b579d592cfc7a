//go:build mage

// Fixture targets for internal/docgen's tests.
package main

import "fmt"

// Hello prints hello.
//
// It says hello once; see docs/reference/other.md.
func Hello(
	// who to greet (default: the world)
	name *string,
	// shout
	loud *bool,
) {
	fmt.Println("hello")
}

// Added is a target the fixture page does not list yet.
func Added() {}
