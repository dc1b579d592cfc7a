package preflight_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	infraplan "github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

// leastPrivilege is a host shaped like homelab.yaml (prepared: import
// content on, the GPU's mapping) whose only API token, the
// privilege-separated infra@pve!infra, holds tokenPrivs and whose user
// infra@pve holds the documented minimal role, both on every path of
// plan.GrantPaths() with propagation, as the documented pveum lines grant
// them. grant, when set, replaces the grant paths.
func leastPrivilege(inv *inventory.Inventory, plan preflight.Plan, tokenPrivs []string, grant ...string) pvesim.Setup {
	s := pvesim.SetupFor(inv, true)
	s.Roles = map[string][]string{preflight.RoleName: preflight.MinimalRole(), "TokenRole": tokenPrivs}
	if len(grant) == 0 {
		grant = plan.GrantPaths()
	}
	var userACL, tokenACL []pvesim.ACL
	for _, p := range grant {
		userACL = append(userACL, pvesim.ACL{Path: p, Role: preflight.RoleName, Propagate: true})
		tokenACL = append(tokenACL, pvesim.ACL{Path: p, Role: "TokenRole", Propagate: true})
	}
	s.Users = append(s.Users, pvesim.User{ID: "infra@pve", Password: "infra-password", ACL: userACL})
	s.Tokens = []pvesim.Token{{ID: "infra@pve!infra", Secret: "infra-secret", ACL: tokenACL}}
	return s
}

// importTalos runs talos:import against the host through e's client.
func importTalos(t *testing.T, e *env, inv *inventory.Inventory) error {
	t.Helper()
	_, err := importTalosReport(t, e, inv)
	return err
}

// importTalosReport is importTalos with the import's report.
func importTalosReport(t *testing.T, e *env, inv *inventory.Inventory) (*images.TalosImportReport, error) {
	t.Helper()
	f := factorysim.New(factorysim.WithPayload(2 << 20))
	t.Cleanup(f.Close)
	factory, err := talosfactory.New(f.URL())
	require.NoError(t, err)
	lock, err := images.LoadLockFile(filepath.Join(t.TempDir(), "images.lock"))
	require.NoError(t, err)
	c, err := proxmox.New(e.cfg, proxmox.WithPollInterval(2*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	return images.ImportTalos(ctx, inv, c, factory, lock, images.TalosImportOptions{})
}

// requireTemplateBuilt asserts the import left the finished template. It
// reads the VM's config: the VM list is pvestatd's cache and lags.
func requireTemplateBuilt(t *testing.T, e *env, inv *inventory.Inventory) {
	t.Helper()
	cfg, err := e.client.VMConfig(context.Background(), inv.Proxmox.Node, inv.Talos.TemplateID)
	require.NoError(t, err)
	require.True(t, cfg.Template(), "the import ran to the end")
	require.Empty(t, cfg.Lock(), "the import ran to the end")
}

// firstImportNeeds are the privileges of the minimal role the first
// talos:import on a fresh host cannot do without; the others serve
// preflight's reads and later runs (VM.Audit: finding the template again).
var firstImportNeeds = []string{"Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "SDN.Use", "Sys.AccessNetwork",
	"VM.Allocate", "VM.Config.CPU", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"}

// TestPreflightLeastPrivilege is the least-privilege scenario: a token with
// exactly the documented minimal role, granted where the documentation
// grants it, passes preflight and runs the whole talos:import on a host
// that enforces PVE's permission rules; a token missing any one privilege
// of the role fails preflight, naming the privilege and the path, and, when
// the import needs it, the import fails on it too.
func TestPreflightLeastPrivilege(t *testing.T) {
	inv := homelab(t)
	plan := preflight.PlanFor(inv)
	ctx := context.Background()

	t.Run("the minimal role passes preflight and imports", func(t *testing.T) {
		e := newEnv(t, pvesim.WithSetup(leastPrivilege(inv, plan, preflight.MinimalRole())))
		r := preflight.Run(ctx, e.client, plan)
		require.True(t, r.OK(), "%+v", r.Failed())
		require.NoError(t, importTalos(t, e, inv))
		requireTemplateBuilt(t, e, inv)
		again, err := importTalosReport(t, e, inv)
		require.NoError(t, err)
		require.Equal(t, infraplan.Unchanged, again.Action, "the token finds the template again: a re-run changes nothing")
	})

	t.Run("the minimal role enables import content itself", func(t *testing.T) {
		setup := leastPrivilege(inv, plan, preflight.MinimalRole())
		for i := range setup.Storages {
			setup.Storages[i].Content = slices.DeleteFunc(setup.Storages[i].Content, func(c string) bool { return c == "import" })
		}
		e := newEnv(t, pvesim.WithSetup(setup))
		r := preflight.Run(ctx, e.client, plan)
		require.Len(t, r.Failed(), 1, "%+v", r.Failed())
		require.Equal(t, "storage local holds import", r.Failed()[0].Name, "only the content is missing, no privilege")
		require.NoError(t, importTalos(t, e, inv))
		requireTemplateBuilt(t, e, inv)
	})

	// Where each privilege of the role is checked, on homelab.yaml's plan.
	paths := map[string]string{
		"Sys.Audit": "/nodes/" + plan.Node, "Sys.AccessNetwork": "/nodes/" + plan.Node,
		"Datastore.Allocate": "/storage", "Datastore.AllocateTemplate": "/storage/" + plan.ImportStorage,
		"Datastore.AllocateSpace": "/storage/" + plan.DiskStorage, "SDN.Use": "/sdn/zones/localnetwork/" + plan.Bridge,
		"Mapping.Use": "/mapping/pci/" + plan.PCIMappings[0],
	}
	for _, priv := range preflight.MinimalRole() {
		t.Run("without "+priv, func(t *testing.T) {
			path := paths[priv]
			if strings.HasPrefix(priv, "VM.") {
				path = fmt.Sprintf("/vms/%d", inv.Talos.TemplateID)
			}
			require.NotEmpty(t, path, "the test knows where %s is checked", priv)
			role := slices.DeleteFunc(preflight.MinimalRole(), func(p string) bool { return p == priv })
			e := newEnv(t, pvesim.WithSetup(leastPrivilege(inv, plan, role)))
			r := preflight.Run(ctx, e.client, plan)
			require.False(t, r.OK())
			c := find(t, r, "privileges on "+path)
			require.Equal(t, preflight.Fail, c.Status, "%+v", r.Checks)
			require.Contains(t, c.Detail, "missing "+priv)
			require.Contains(t, c.Fix, priv)
			require.Contains(t, c.Fix, path)
			for _, f := range r.Failed() {
				if strings.HasPrefix(f.Name, "privileges on ") {
					require.Contains(t, f.Detail, priv, "only %s is missing", priv)
				}
			}
			if !slices.Contains(firstImportNeeds, priv) {
				return
			}
			// What preflight refuses, the host refuses too, at the
			// import's first call that needs it.
			refusal := map[string]string{
				"Datastore.Allocate":      "Permission check failed (/storage/" + plan.ImportStorage + ", Datastore.Allocate)",
				"Datastore.AllocateSpace": "the token may not see it",
				"Sys.AccessNetwork":       "Permission check failed (/, Sys.Audit|Sys.Modify)",
			}
			want, ok := refusal[priv]
			if !ok {
				want = "Permission check failed (" + path + ", " + priv + ")"
			}
			err := importTalos(t, e, inv)
			require.ErrorContains(t, err, want, "an import without %s fails", priv)
		})
	}

	t.Run("the role on each storage but not on /storage", func(t *testing.T) {
		var grant []string
		for _, p := range plan.GrantPaths() {
			if p == "/storage" {
				p = "/storage/" + plan.ImportStorage
				grant = append(grant, "/storage/"+plan.DiskStorage)
			}
			grant = append(grant, p)
		}
		setup := leastPrivilege(inv, plan, preflight.MinimalRole(), grant...)
		e := newEnv(t, pvesim.WithSetup(setup))
		r := preflight.Run(ctx, e.client, plan)
		i := slices.IndexFunc(r.Checks, func(c preflight.Check) bool { return c.Name == "privileges on /storage" })
		require.GreaterOrEqual(t, i, 0, "%+v", r.Checks)
		require.Equal(t, preflight.Fail, r.Checks[i].Status)
		require.Contains(t, r.Checks[i].Detail, "missing Datastore.Allocate")

		for i := range setup.Storages {
			setup.Storages[i].Content = slices.DeleteFunc(setup.Storages[i].Content, func(c string) bool { return c == "import" })
		}
		e = newEnv(t, pvesim.WithSetup(setup))
		err := importTalos(t, e, inv)
		require.True(t, proxmox.IsStatus(err, 403), "what preflight refused, the host refuses: %v", err)
		require.ErrorContains(t, err, "Permission check failed (/storage, Datastore.Allocate)")
	})
}
