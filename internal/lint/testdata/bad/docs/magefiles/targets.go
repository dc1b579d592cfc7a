//go:build mage

// Fixture targets: the targets page lacks Added.
package main

// Hello prints hello.
func Hello() {}

// Added is a target the page does not list.
func Added() {}
