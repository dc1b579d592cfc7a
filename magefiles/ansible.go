//go:build mage

package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/lib/ansible"
	"github.com/wdiazux/infra/lib/inventory"
)

// Ansible runs the playbooks that configure the traditional VMs and templates.
type Ansible mg.Namespace

// ansibleRunner is the runner for the ansible/ directory next to the inventory.
func ansibleRunner(file *string) (*ansible.Runner, *inventory.Inventory, error) {
	path, inv, err := loadInventory(file)
	if err != nil {
		return nil, nil, err
	}
	return ansible.New(filepath.Join(filepath.Dir(path), ansible.DefaultDir), ansible.WithLogger(logger()),
		ansible.WithGeneratedBy("go run mage.go ansible:inventory (every ansible:run makes it again)")), inv, nil
}

// Inventory writes ansible/inventory/hosts.yml from homelab.yaml: the enabled VMs, grouped by OS.
//
// Writes `ansible/inventory/hosts.yml` from the inventory: the enabled VMs,
// grouped by OS (`debian`, `ubuntu`, `arch` under `linux`; `windows`). NixOS
// VMs are not there.
func (Ansible) Inventory(
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	r, inv, err := ansibleRunner(file)
	if err != nil {
		return err
	}
	path, changed, err := r.WriteInventory(inv)
	if err != nil {
		return err
	}
	if !changed {
		fmt.Printf("%s is up to date\n", path)
		return nil
	}
	fmt.Printf("wrote %s\n", path)
	return nil
}

// Run runs PLAYBOOK, such as day1_all_vms, against the VMs of homelab.yaml; -check -diff shows what would change.
//
// Writes the inventory, then runs `ansible/playbooks/PLAYBOOK.yml` (e.g.
// `day1_all_vms`) with `ansible/ansible.cfg`. `-check -diff` reports what
// would change. See Ansible (docs/operations/ansible.md).
func (Ansible) Run(ctx context.Context, playbook string,
	// only these hosts or groups (ansible-playbook --limit)
	limit *string,
	// report what would change and change nothing (--check)
	check *bool,
	// show the changes to files (--diff)
	diff *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	r, inv, err := ansibleRunner(file)
	if err != nil {
		return err
	}
	if _, _, err := r.WriteInventory(inv); err != nil {
		return err
	}
	recaps, err := r.Run(ctx, playbook, ansible.RunOptions{Limit: value(limit), Check: isSet(check), Diff: isSet(diff)})
	if err != nil {
		return err
	}
	changed := 0
	for _, rc := range recaps {
		changed += rc.Changed
	}
	if changed == 0 {
		fmt.Printf("%d host(s), nothing changed\n", len(recaps))
	}
	return nil
}

// Lint checks the Ansible code: yamllint, ansible-lint (production profile) and --syntax-check of every playbook.
func (Ansible) Lint(ctx context.Context,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	r, inv, err := ansibleRunner(file)
	if err != nil {
		return err
	}
	if err := r.Lint(ctx, inv); err != nil {
		return err
	}
	fmt.Println("ansible/ is clean: yamllint, ansible-lint (production profile), syntax of every playbook")
	return nil
}
