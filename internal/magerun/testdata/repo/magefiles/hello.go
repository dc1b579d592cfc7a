//go:build mage

package main

import "fmt"

// Hello prints hello.
func Hello() { greet("hello") }

// greet prints what a target did; Wait uses it too.
func greet(what string) { fmt.Println(what) }
