package proxmox_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox"
)

func TestPermissions(t *testing.T) {
	perms := proxmox.Permissions{
		"/":         {"Sys.Audit": true, "VM.Audit": true},
		"/vms/100":  {"VM.Allocate": false},
		"/storage":  {"Datastore.Audit": true},
		"/sdn/none": {"SDN.Use": false},
	}
	tests := []struct {
		name      string
		path      string
		effective map[string]bool
		ask       []string
		missing   []string
	}{
		{"inherited from the root", "/nodes/pve", map[string]bool{"Sys.Audit": true, "VM.Audit": true}, []string{"Sys.Audit", "Sys.AccessNetwork"}, []string{"Sys.AccessNetwork"}},
		{"the exact path replaces what is inherited", "/vms/100", map[string]bool{"VM.Allocate": true}, []string{"VM.Audit", "VM.Allocate"}, []string{"VM.Audit"}},
		{"the deepest ancestor wins", "/storage/local", map[string]bool{"Datastore.Audit": true}, []string{"Datastore.Audit"}, nil},
		{"a sibling of an exact path inherits", "/vms/101", map[string]bool{"Sys.Audit": true, "VM.Audit": true}, []string{"VM.Allocate", "VM.Clone"}, []string{"VM.Allocate", "VM.Clone"}},
		{"a path granting nothing below it is skipped", "/sdn/none/x", map[string]bool{"Sys.Audit": true, "VM.Audit": true}, []string{"SDN.Use"}, []string{"SDN.Use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.effective, perms.Effective(tt.path))
			require.Equal(t, tt.missing, perms.Missing(tt.path, tt.ask...))
		})
	}
	require.Equal(t, map[string]bool{}, proxmox.Permissions{}.Effective("/vms/100"), "no ACL grants nothing")
}
