// Package schema holds the part of the official Proxmox VE 9 API schema that
// the simulator implements, and validates requests against it the way PVE's
// JSONSchema code does: unknown and missing parameters, types, enums,
// patterns, ranges, lengths, named formats and property strings.
//
// subset.json is generated from pve-apidoc.json.gz (the schema behind PVE's
// API viewer) by `go generate`; TestSubsetIsFresh fails when it is stale.
package schema
