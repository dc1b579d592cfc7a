package terraform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// VMResourceType is the resource type of a Proxmox VM: a plan that
// destroys or replaces one is applied only when allowed.
const VMResourceType = "proxmox_virtual_environment_vm"

// Action is what a plan does to one resource.
type Action string

// Actions of a plan.
const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Destroy Action = "destroy"
)

// Change is one resource a plan changes.
type Change struct {
	// Address is the resource's address, e.g.
	// module.node["talos-cp-01"].proxmox_virtual_environment_vm.this.
	Address string
	// Type is the resource type.
	Type string
	// Action is what the plan does to it.
	Action Action
	// Attributes are the top-level attributes an update or a replacement
	// changes, sorted.
	Attributes []string
}

// Summary is what a saved plan does.
type Summary struct {
	// Stack is the stack planned.
	Stack Stack
	// Destroy is true for a destroy plan.
	Destroy bool
	// Changes are the resources the plan changes, in the plan's order;
	// resources left alone are not listed.
	Changes []Change
	// OutputsChanged is true when the plan changes outputs.
	OutputsChanged bool
}

// Count returns how many changes have the action.
func (s Summary) Count(a Action) int {
	n := 0
	for _, c := range s.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// NothingToDo reports whether the plan changes nothing at all.
func (s Summary) NothingToDo() bool { return len(s.Changes) == 0 && !s.OutputsChanged }

// VMsRemoved returns the addresses of the VMs the plan destroys or
// replaces.
func (s Summary) VMsRemoved() []string {
	var out []string
	for _, c := range s.Changes {
		if c.Type == VMResourceType && (c.Action == Destroy || c.Action == Replace) {
			out = append(out, c.Address)
		}
	}
	return out
}

// String is one line of counts, e.g. "2 to create, 1 to update, 0 to
// replace, 0 to destroy", or "nothing to do".
func (s Summary) String() string {
	if s.NothingToDo() {
		return "nothing to do"
	}
	return fmt.Sprintf("%d to create, %d to update, %d to replace, %d to destroy",
		s.Count(Create), s.Count(Update), s.Count(Replace), s.Count(Destroy))
}

// summarize reads terraform show -json's plan.
func summarize(stack Stack, destroy bool, p *tfjson.Plan) Summary {
	s := Summary{Stack: stack, Destroy: destroy}
	for _, rc := range p.ResourceChanges {
		if rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		var a Action
		acts := rc.Change.Actions
		switch {
		case acts.Replace():
			a = Replace
		case acts.Create():
			a = Create
		case acts.Update():
			a = Update
		case acts.Delete():
			a = Destroy
		default:
			continue
		}
		c := Change{Address: rc.Address, Type: rc.Type, Action: a}
		if a == Update || a == Replace {
			c.Attributes = changedAttributes(rc.Change.Before, rc.Change.After, rc.Change.AfterUnknown)
		}
		s.Changes = append(s.Changes, c)
	}
	for _, oc := range p.OutputChanges {
		if oc != nil && !oc.Actions.NoOp() {
			s.OutputsChanged = true
		}
	}
	return s
}

// changedAttributes are the top-level keys whose values differ between
// before and after (or become unknown).
func changedAttributes(before, after, unknown any) []string {
	b, _ := before.(map[string]any)
	a, _ := after.(map[string]any)
	u, _ := unknown.(map[string]any)
	var out []string
	for k, av := range a {
		if !reflect.DeepEqual(b[k], av) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for k, v := range u {
		if v == true && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// DestroyRefusedError is a plan that destroys or replaces VMs, applied
// without allowing it.
type DestroyRefusedError struct {
	// Stack is the stack.
	Stack Stack
	// Resources are the addresses of the VMs the plan destroys or replaces.
	Resources []string
	// Destroy is true for a destroy plan.
	Destroy bool
}

// Error lists the VMs.
func (e *DestroyRefusedError) Error() string {
	return fmt.Sprintf("stack %s: the plan destroys or replaces %d VM(s): %s; nothing was applied: check the plan, and allow "+
		"destroying VMs explicitly if that is intended", e.Stack, len(e.Resources), strings.Join(e.Resources, ", "))
}

// Output is one output of a stack.
type Output struct {
	// Value is the output's value as JSON.
	Value json.RawMessage
	// Sensitive is true for a sensitive output.
	Sensitive bool
}
