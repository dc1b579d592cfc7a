//go:build mage

// Fixture targets for internal/magerun's tests.
package main

// deref is a flag's value, "" when absent.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
