output "nodes" {
  description = "The Talos node VMs by name (homelab.yaml talos.nodes[*].name): VM ID, IPv4 address and the NIC's MAC address."
  value = { for name, m in module.node : name => {
    id  = m.vm_id
    ip  = m.ipv4_address
    mac = m.mac_address
  } }
}
