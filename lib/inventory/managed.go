package inventory

// ManagedTag is the Proxmox VE tag on every VM and template this project
// creates from the inventory. A VM at a planned ID that carries it is ours:
// an importer may reuse, repair or replace it, and a preflight accepts the
// ID as already ours. A VM without it belongs to someone else and is never
// touched. The inventory owns the convention so that the packages that
// create VMs and the packages that check a host share it without importing
// each other; the Proxmox client only reads and writes tags.
const ManagedTag = "infra-managed"
