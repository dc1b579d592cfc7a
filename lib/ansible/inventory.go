package ansible

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/lib/inventory"
)

// InventoryFile is the generated inventory, relative to the ansible
// directory (gitignored: it is made from homelab.yaml on every run).
const InventoryFile = "inventory/hosts.yml"

// Groups are the OS groups of the inventory, by image key. NixOS is
// configured declaratively and has no group.
var osGroups = []struct {
	image, parent string
}{
	{"debian", "linux"},
	{"ubuntu", "linux"},
	{"arch", "linux"},
	{"windows", ""},
}

type (
	hostVars struct {
		AnsibleHost string `yaml:"ansible_host"`
		AnsibleUser string `yaml:"ansible_user"`
	}
	group struct {
		Hosts    map[string]hostVars `yaml:"hosts,omitempty"`
		Children map[string]*group   `yaml:"children,omitempty"`
	}
)

// Inventory renders the Ansible inventory of the enabled VMs of inv: one
// group per OS (debian, ubuntu, arch under linux; windows), each host with
// its address and the user its image ships with. Disabled VMs and NixOS
// VMs are left out. The header says the file is generated, by generatedBy
// when it is not "" (the command that makes it again). The output is
// deterministic.
func Inventory(inv *inventory.Inventory, generatedBy string) ([]byte, error) {
	root := &group{Children: map[string]*group{"linux": {Children: map[string]*group{}}}}
	for _, g := range osGroups {
		grp := &group{Hosts: map[string]hostVars{}}
		img, ok := inv.Images[g.image]
		for _, vm := range inv.VMs {
			if vm.Image != g.image || !vm.Enabled {
				continue
			}
			if !ok {
				return nil, fmt.Errorf("vms %s: image %q is not in images", vm.Name, vm.Image)
			}
			grp.Hosts[vm.Name] = hostVars{AnsibleHost: vm.IP.String(), AnsibleUser: img.DefaultUser}
		}
		if g.parent == "" {
			root.Children[g.image] = grp
		} else {
			root.Children[g.parent].Children[g.image] = grp
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# Generated from homelab.yaml")
	if generatedBy != "" {
		buf.WriteString(" by " + generatedBy)
	}
	buf.WriteString(".\n# Do not edit: change homelab.yaml. NixOS VMs are configured declaratively and are not here.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]*group{"all": root}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
