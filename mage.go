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
	"strings"

	"github.com/magefile/mage/mage"
)

func main() {
	// Mage spells target flags with one dash and the Go parameter's name
	// (-json, -dryrun); accept the GNU spelling too (--json, --dry-run).
	for i, arg := range os.Args[1:] {
		if strings.HasPrefix(arg, "--") && len(arg) > 2 {
			name, value, hasValue := strings.Cut(arg[2:], "=")
			os.Args[i+1] = "-" + strings.ReplaceAll(name, "-", "")
			if hasValue {
				os.Args[i+1] += "=" + value
			}
		}
	}
	os.Exit(mage.Main())
}
