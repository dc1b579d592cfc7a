package preflight_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestTemplatesAndFields checks a template the plan clones and that failed
// checks name the inventory field they are about.
func TestTemplatesAndFields(t *testing.T) {
	inv := homelab(t)
	plan := preflight.PlanFor(inv)
	plan.Templates = []preflight.PlannedVM{{ID: inv.Talos.TemplateID, Name: "talos template", Field: "talos.template_id"}}
	e := newEnv(t, pvesim.WithSetup(pvesim.SetupFor(inv, false)))
	r := preflight.Run(context.Background(), e.client, plan)
	tmpl := find(t, r, "template ")
	require.Equal(t, preflight.Fail, tmpl.Status)
	require.Equal(t, "talos.template_id", tmpl.Field)
	require.Contains(t, tmpl.Detail, "no VM")
	gpu := find(t, r, "PCI mapping rtx4000")
	require.Equal(t, "talos.nodes[0].gpu.mapping", gpu.Field)
	require.Equal(t, "proxmox.storage.disks", find(t, r, "storage "+inv.Proxmox.Storage.Disks+" holds images").Field)
}
