package terraform

import (
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/require"
)

func TestSummarize(t *testing.T) {
	vm := func(addr string, acts tfjson.Actions, before, after map[string]any) *tfjson.ResourceChange {
		return &tfjson.ResourceChange{Address: addr, Type: VMResourceType, Mode: tfjson.ManagedResourceMode,
			Change: &tfjson.Change{Actions: acts, Before: before, After: after}}
	}
	p := &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{
		vm("a", tfjson.Actions{tfjson.ActionCreate}, nil, map[string]any{"name": "a"}),
		vm("b", tfjson.Actions{tfjson.ActionUpdate}, map[string]any{"name": "b", "cpu": 1.0, "gone": "x"}, map[string]any{"name": "b", "cpu": 2.0}),
		vm("c", tfjson.Actions{tfjson.ActionDelete, tfjson.ActionCreate}, map[string]any{"node_name": "pve"}, map[string]any{"node_name": "pve2"}),
		vm("d", tfjson.Actions{tfjson.ActionDelete}, map[string]any{}, nil),
		vm("e", tfjson.Actions{tfjson.ActionNoop}, map[string]any{}, map[string]any{}),
		{Address: "data.x", Mode: tfjson.DataResourceMode, Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionRead}}},
	}}
	s := summarize(StackTalos, false, p)
	require.Equal(t, []Change{
		{Address: "a", Type: VMResourceType, Action: Create},
		{Address: "b", Type: VMResourceType, Action: Update, Attributes: []string{"cpu", "gone"}},
		{Address: "c", Type: VMResourceType, Action: Replace, Attributes: []string{"node_name"}},
		{Address: "d", Type: VMResourceType, Action: Destroy},
	}, s.Changes)
	require.Equal(t, "1 to create, 1 to update, 1 to replace, 1 to destroy", s.String())
	require.Equal(t, []string{"c", "d"}, s.VMsRemoved())
	require.ErrorContains(t, &DestroyRefusedError{Stack: StackTalos, Resources: s.VMsRemoved()}, "destroys or replaces 2 VM(s): c, d")
	require.True(t, summarize(StackVMs, false, &tfjson.Plan{}).NothingToDo())
}
