//go:build ignore

// mage.go runs the project's Mage targets with nothing installed but Go:
//
//	go run mage.go -l
//	go run mage.go config:show
//
// The targets live in magefiles/; internal/magerun checks the command line,
// builds them (one build at a time per checkout) and runs them.
package main

import (
	"os"

	"github.com/wdiazux/infra/internal/magerun"
)

func main() {
	os.Exit(magerun.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
