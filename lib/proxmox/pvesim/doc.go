// Package pvesim is a simulated Proxmox VE 9 API, the ground the project's
// Proxmox code is tested on. It serves HTTPS on loopback, authenticates API
// tokens and tickets, validates every request against the official API
// schema (see internal/schema), keeps state (storages and their content,
// volumes, VMs and their configs, locks, templates, clones, tasks, ACLs;
// running VMs with their pending changes, guest agent and cloud-init),
// runs asynchronous tasks with PVE's UPIDs and log lines, really downloads
// URLs for download-url, and answers errors the way PVE does. Tests start it
// in-process with New; `mage proxmox:sim` serves it standalone.
//
// Faults can be injected (failed tasks, HTTP statuses, connection resets,
// stalls, held locks) and Requests lists what clients asked, so tests can
// prove a POST was sent once.
package pvesim
