package preflight

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the minimal role's section of docs/deployment/planning.md from the table")

const (
	roleDocFile  = "../../docs/deployment/planning.md"
	roleDocBegin = "<!-- BEGIN minimal role: generated from lib/preflight's Privileges by `go test ./lib/preflight -run TestRoleDoc -update`; do not edit -->\n"
	roleDocEnd   = "<!-- END minimal role -->\n"
)

// roleDoc renders the minimal role's documentation from the table: the
// pveum lines that create the role, the user, its privilege-separated
// token and the grants, then every privilege with where PVE checks it and
// why.
func roleDoc() string {
	var b strings.Builder
	placeholders := Plan{Node: "{node}", ImportStorage: "{import}", ISOStorage: "{iso}", DiskStorage: "{disks}", Bridge: "{bridge}",
		PCIMappings: []string{"{mapping}"}, TalosTemplate: 1, VMs: []PlannedVM{{ID: 1}}}
	b.WriteString("```sh\n")
	fmt.Fprintf(&b, "pveum role add %s -privs \"%s\"\n", RoleName, strings.Join(MinimalRole(), " "))
	b.WriteString("pveum user add infra@pve\n")
	b.WriteString("pveum user token add infra@pve infra --privsep 1\n")
	for _, p := range placeholders.GrantPaths() {
		fmt.Fprintf(&b, "pveum acl modify %s --users infra@pve --tokens 'infra@pve!infra' --roles %s\n", p, RoleName)
	}
	b.WriteString("```\n\n")
	b.WriteString("| Privilege | Checked on | Calls | Why |\n|---|---|---|---|\n")
	for _, p := range Privileges() {
		name := "`" + p.Name + "`"
		if len(p.AnyOf) > 0 || p.Or != nil {
			name = "`" + strings.ReplaceAll(describe(p), " (or ", "` (or ")
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", name, p.Path, p.Calls, p.Why)
	}
	return b.String()
}

// TestRoleDoc keeps the documented minimal role in step with the table
// preflight checks: the section between the markers is roleDoc's output.
func TestRoleDoc(t *testing.T) {
	raw, err := os.ReadFile(roleDocFile)
	require.NoError(t, err)
	doc := string(raw)
	start := strings.Index(doc, roleDocBegin)
	end := strings.Index(doc, roleDocEnd)
	require.True(t, start >= 0 && end > start, "%s has no section between %q and %q", roleDocFile, roleDocBegin, roleDocEnd)
	want := doc[:start+len(roleDocBegin)] + roleDoc() + doc[end:]
	if *update {
		require.NoError(t, os.WriteFile(roleDocFile, []byte(want), 0o644))
		return
	}
	require.Equal(t, want, doc, "the minimal role's documentation is stale: run go test ./lib/preflight -run TestRoleDoc -update")
}
