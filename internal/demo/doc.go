// Package demo is the program behind `go run mage.go demo`: the project's
// main job, a Talos template import, run end to end against a simulated
// Proxmox VE 9 host and a stand-in Image Factory on loopback, then run
// again to show it changes nothing. It needs nothing but Go. It is a
// narrated program, not a library, so it lives under internal/.
package demo
