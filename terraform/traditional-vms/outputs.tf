output "vms" {
  description = "The traditional VMs by name (homelab.yaml vms[*].name, enabled ones): VM ID, IPv4 address and the NIC's MAC address."
  value = { for name, m in module.vm : name => {
    id  = m.vm_id
    ip  = m.ipv4_address
    mac = m.mac_address
  } }
}
