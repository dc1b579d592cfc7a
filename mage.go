//go:build ignore

// mage.go runs the project's Mage targets with nothing installed but Go:
//
//	go run mage.go -l
//	go run mage.go config:show
//
// The targets live in magefiles/.
package main

import (
	"os"

	"github.com/magefile/mage/mage"
)

func main() { os.Exit(mage.Main()) }
