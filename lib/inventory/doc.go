// Package inventory owns homelab.yaml, the one file that holds every fact about
// the homelab: the network and its address plan, the Proxmox host, the VM ID
// plan, the Talos cluster, the Kubernetes add-on versions, the traditional VMs
// and the admin user.
//
// The package loads the file into typed structs and validates it strictly:
// unknown keys, wrong types, missing fields, addresses outside the network or
// outside their allocation range, duplicate addresses, names and VM IDs,
// malformed versions and inconsistent cross-references are all reported at
// once (the first MaxProblems in file order, the rest counted), each with the
// file, line and field path it concerns:
//
//	homelab.yaml:42: talos.nodes[0].ip: 10.10.3.10 is outside network 10.10.2.0/24
//
// Terraform (yamldecode), Packer and Ansible (include_vars) read the same file
// directly, so it stays plain YAML: no anchors, no aliases, no merge keys, and
// strings that look like numbers must be quoted.
package inventory
