// Package schema holds the part of the official Proxmox VE 9 API schema that
// the simulator implements, and validates requests against it the way PVE's
// JSONSchema code does: unknown and missing parameters, types, enums,
// patterns, ranges, lengths, named formats and property strings. Every named
// format the endpoints reference has a checker (formats.go for the formats
// PVE registers with a verifier function, namedformats.go for the property
// strings it registers by name); TestEveryReferencedFormatHasAChecker fails
// when one is missing.
//
// subset.json is generated from pve-apidoc.json.gz (the schema behind PVE's
// API viewer) by `go generate`; TestSubsetIsFresh fails when it is stale.
package schema
