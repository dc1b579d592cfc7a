// Package bad holds a staticcheck finding.
package bad

import "strings"

// Bad throws its result away.
func Bad(s string) {
	strings.ToUpper(s)
}
