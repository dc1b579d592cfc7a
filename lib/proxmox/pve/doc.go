// Package pve owns the value formats of the Proxmox VE 9 API that both sides
// of the wire must agree on: task IDs (UPIDs), property strings such as
// "local-zfs:0,import-from=local:import/talos.qcow2,discard=on", volume IDs,
// tag lists, and the JSON envelopes of answers and errors. The client
// (lib/proxmox) and the simulator (lib/proxmox/pvesim) both use it, so a
// format is written once.
package pve
