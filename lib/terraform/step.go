package terraform

import (
	"context"
	"fmt"
)

// StackStep is one stack planned and applied as a single step of a larger
// run, such as bringing a cluster up: it plans the stack (initialising it
// first when it never was) and applies the plan only when it changes
// something. A plan that destroys or replaces a VM is refused
// (*DestroyRefusedError): a step of a larger run never removes a VM.
type StackStep struct {
	runner *Runner
	stack  Stack
}

// Step returns the stack as a StackStep.
func (r *Runner) Step(s Stack) StackStep { return StackStep{runner: r, stack: s} }

// Apply plans the stack and applies the plan when it has changes. changed
// says whether it applied; summary says what it did to the VMs, e.g.
// "1 VM(s) created, 0 updated, 0 replaced, 0 destroyed (terraform)", or
// "nothing to do".
func (st StackStep) Apply(ctx context.Context) (changed bool, summary string, err error) {
	res, err := st.runner.Apply(ctx, st.stack, ApplyOptions{})
	if err != nil {
		return false, "", err
	}
	if !res.Applied {
		return false, res.Summary.String(), nil
	}
	return true, vmCounts(res.Summary) + " (" + res.Binary.Name + ")", nil
}

// vmCounts says what a plan does to the VMs, e.g. "1 VM created, 0
// updated, 0 replaced, 0 destroyed": the stack's other resources (its
// inventory check) are not the operator's concern.
func vmCounts(s Summary) string {
	n := map[Action]int{}
	for _, c := range s.Changes {
		if c.Type == VMResourceType {
			n[c.Action]++
		}
	}
	return fmt.Sprintf("%d VM(s) created, %d updated, %d replaced, %d destroyed", n[Create], n[Update], n[Replace], n[Destroy])
}

// Plan plans the stack and changes nothing; changes says whether Apply
// would apply something.
func (st StackStep) Plan(ctx context.Context) (changes bool, summary string, err error) {
	res, err := st.runner.Plan(ctx, st.stack)
	if err != nil {
		return false, "", err
	}
	if res.Summary.NothingToDo() {
		return false, res.Summary.String(), nil
	}
	return true, "would change: " + vmCounts(res.Summary), nil
}
