package tfaccept_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

func TestUnexpected(t *testing.T) {
	gone := tfaccept.Expected{Method: http.MethodGet, Path: regexp.MustCompile(`/nodes/pve/qemu/110/status/current`), Status: 500, Why: "the VM is gone"}
	tests := []struct {
		name     string
		req      pvesim.Request
		expected []tfaccept.Expected
		want     bool
	}{
		{name: "a success", req: pvesim.Request{Method: "GET", Path: "/version", Status: 200}},
		{name: "an unlisted 500", req: pvesim.Request{Method: "GET", Path: "/nodes/pve/qemu/110/config", Status: 500}, expected: []tfaccept.Expected{gone}, want: true},
		{name: "a listed 500", req: pvesim.Request{Method: "GET", Path: "/nodes/pve/qemu/110/status/current", Status: 500}, expected: []tfaccept.Expected{gone}},
		{name: "another method", req: pvesim.Request{Method: "POST", Path: "/nodes/pve/qemu/110/status/current", Status: 500}, expected: []tfaccept.Expected{gone}, want: true},
		{name: "another status", req: pvesim.Request{Method: "GET", Path: "/nodes/pve/qemu/110/status/current", Status: 403}, expected: []tfaccept.Expected{gone}, want: true},
		{name: "the path must match whole", req: pvesim.Request{Method: "GET", Path: "/nodes/pve/qemu/1100/status/current", Status: 500}, expected: []tfaccept.Expected{gone}, want: true},
		{name: "a 501 is never allowed", req: pvesim.Request{Method: "GET", Path: "/x", Status: 501},
			expected: []tfaccept.Expected{{Method: "GET", Path: regexp.MustCompile(`/x`), Status: 501}}, want: true},
		{name: "a reset connection", req: pvesim.Request{Method: "GET", Path: "/version", Status: 0}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tfaccept.Unexpected([]pvesim.Request{tt.req}, tt.expected)
			if tt.want {
				require.Equal(t, []pvesim.Request{tt.req}, got)
			} else {
				require.Empty(t, got)
			}
		})
	}
}

func TestNewWorkspaceNeedsARootModule(t *testing.T) {
	_, err := tfaccept.NewWorkspace("terraform", t.TempDir(), t.TempDir(), t.TempDir(), nil, nil)
	require.ErrorContains(t, err, "no *.tf files in")
}

func TestAddModule(t *testing.T) {
	ws := &tfaccept.Workspace{Dir: t.TempDir()}
	require.ErrorContains(t, ws.AddModule("none", t.TempDir()), "no *.tf files in")
	require.NoError(t, ws.AddModule("vm", "testdata/vm"))
	require.FileExists(t, ws.Dir+"/modules/vm/main.tf")
}

func TestWriteVarsNeedsAVariablesFileName(t *testing.T) {
	ws := &tfaccept.Workspace{Dir: t.TempDir()}
	_, err := ws.WriteVars("vars.json", []byte("{}"))
	require.ErrorContains(t, err, "must end in .tfvars.json")
	name, err := ws.WriteVars("a.tfvars.json", []byte("{}"))
	require.NoError(t, err)
	require.FileExists(t, ws.Dir+"/"+name)
}
