// Package docgen writes the repository's generated documentation and
// reports where it drifted: the inputs/outputs tables of each Terraform
// module's README (from its .tf files, through internal/tfmodule), the
// targets reference docs/reference/targets.md (from the targets' doc and
// flag comments, as `go run mage.go -l` and `-h` read them through
// internal/magerun), and the inventory reference docs/reference/inventory.md
// (from lib/inventory's structs, yaml tags and field doc comments, parsed
// from the Go source).
//
// Each generated part of a file lies between a BEGIN and an END marker
// (Begin, End), which say how to regenerate it; the text around the markers
// is written by hand and kept. Write rewrites every generated part, Check
// compares without writing and reports each drifted file with the line of
// its first difference.
package docgen
