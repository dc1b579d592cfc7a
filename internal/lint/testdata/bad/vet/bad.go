// Package bad holds a go vet problem.
package bad

import "fmt"

// Bad formats a string with %d.
func Bad() string {
	return fmt.Sprintf("%d", "not a number")
}
