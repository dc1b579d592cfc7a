package terraform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// StateVM is a VM the stack's state holds.
type StateVM struct {
	// Address is the resource's address, e.g.
	// module.node["talos-cp-02"].proxmox_virtual_environment_vm.this.
	Address string
	// Name and VMID are the VM's.
	Name string
	VMID int
	// IP is the cloud-init IPv4 address (invalid without one).
	IP netip.Addr
	// Tags are the VM's tags (the repository's module tags each VM with
	// its role, e.g. controlplane or worker).
	Tags []string
}

// StateVMs lists the VMs the stack's state holds (terraform show -json),
// as the last apply left them, asking the host nothing; a stack never
// applied has none.
func (r *Runner) StateVMs(ctx context.Context, s Stack) ([]StateVM, error) {
	if _, err := os.Stat(filepath.Join(r.StackDir(s), "terraform.tfstate")); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err := r.initOnce(ctx, s); err != nil {
		return nil, err
	}
	tf, dir, err := r.stackTF(s)
	if err != nil {
		return nil, err
	}
	tf.SetStdout(io.Discard)
	st, err := tf.Show(ctx)
	if err != nil {
		return nil, &RunError{Binary: r.bin, Stack: s, Dir: dir, Command: "show -json", Err: err}
	}
	var out []StateVM
	if st.Values != nil {
		out = stateVMs(st.Values.RootModule, out)
	}
	return out, nil
}

// stateVMs collects the VMs of a module and its children.
func stateVMs(m *tfjson.StateModule, out []StateVM) []StateVM {
	if m == nil {
		return out
	}
	for _, res := range m.Resources {
		if res.Type != VMResourceType || res.Mode != tfjson.ManagedResourceMode {
			continue
		}
		vm := StateVM{Address: res.Address}
		vm.Name, _ = res.AttributeValues["name"].(string)
		switch id := res.AttributeValues["vm_id"].(type) { // terraform-json decodes numbers as json.Number
		case json.Number:
			if n, err := id.Int64(); err == nil {
				vm.VMID = int(n)
			}
		case float64:
			vm.VMID = int(id)
		}
		for _, t := range asList(res.AttributeValues["tags"]) {
			if tag, ok := t.(string); ok {
				vm.Tags = append(vm.Tags, tag)
			}
		}
		// initialization[0].ip_config[0].ipv4[0].address, "10.10.2.11/24".
		if addr, ok := first(first(first(res.AttributeValues["initialization"], "ip_config"), "ipv4"), "address").(string); ok {
			if p, err := netip.ParsePrefix(addr); err == nil {
				vm.IP = p.Addr()
			}
		}
		out = append(out, vm)
	}
	for _, c := range m.ChildModules {
		out = stateVMs(c, out)
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// first is the key of the first object of a list value (nil when absent).
func first(v any, key string) any {
	l := asList(v)
	if len(l) == 0 {
		return nil
	}
	m, _ := l[0].(map[string]any)
	return m[key]
}

// UnexpectedPlanError is a plan to remove VMs that changes something else;
// nothing was applied.
type UnexpectedPlanError struct {
	// Stack is the stack.
	Stack Stack
	// Want are the VMs to destroy, Other the changes besides.
	Want  []string
	Other []Change
}

// Error lists what the plan would change besides.
func (e *UnexpectedPlanError) Error() string {
	var other []string
	for _, c := range e.Other {
		other = append(other, string(c.Action)+" "+c.Address)
	}
	return fmt.Sprintf("stack %s: the plan to destroy %s would also %s; nothing was applied: plan the stack and look at what differs",
		e.Stack, strings.Join(e.Want, ", "), strings.Join(other, ", "))
}

// RemoveVMs destroys exactly the VMs at these addresses, which the
// stack's configuration no longer has (their nodes left the inventory):
// it plans only them (-target) and applies the plan only when it destroys
// them and changes nothing else (*UnexpectedPlanError otherwise). With
// DryRun it only plans. VMs already gone plan nothing.
func (r *Runner) RemoveVMs(ctx context.Context, s Stack, addresses []string, dryRun bool) (Result, error) {
	check := func(sum Summary) error {
		var other []Change
		for _, c := range sum.Changes {
			if c.Action != Destroy || !slices.Contains(addresses, c.Address) {
				other = append(other, c)
			}
		}
		if len(other) > 0 {
			return &UnexpectedPlanError{Stack: s, Want: addresses, Other: other}
		}
		return nil
	}
	return r.run(ctx, s, false, ApplyOptions{AllowDestroy: true, DryRun: dryRun, targets: addresses, check: check})
}

// StateVMs lists the VMs in the step's stack's state (Runner.StateVMs).
func (st StackStep) StateVMs(ctx context.Context) ([]StateVM, error) {
	return st.runner.StateVMs(ctx, st.stack)
}

// RemoveVMs destroys exactly the VMs at these addresses
// (Runner.RemoveVMs); summary says what it did, e.g. "2 VM(s) destroyed
// (terraform)".
func (st StackStep) RemoveVMs(ctx context.Context, addresses []string, dryRun bool) (changed bool, summary string, err error) {
	res, err := st.runner.RemoveVMs(ctx, st.stack, addresses, dryRun)
	if err != nil {
		return false, "", err
	}
	n := res.Summary.Count(Destroy)
	switch {
	case n == 0:
		return false, "nothing to destroy", nil
	case dryRun:
		return true, fmt.Sprintf("would destroy %d VM(s)", n), nil
	}
	return res.Applied, fmt.Sprintf("%d VM(s) destroyed (%s)", n, res.Binary.Name), nil
}
