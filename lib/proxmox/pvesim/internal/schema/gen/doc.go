// Command gen writes subset.json, the part of the official PVE API schema the
// simulator implements, from pve-apidoc.json.gz. Run it with `go generate`
// in lib/proxmox/pvesim/internal/schema.
package main
