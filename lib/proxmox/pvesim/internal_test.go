package pvesim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim/internal/schema"
)

// TestEveryHandlerHasASchema keeps the handler table and the generated
// schema subset in step: a handler without schema would skip validation,
// a schema method without handler would answer 501.
func TestEveryHandlerHasASchema(t *testing.T) {
	sch, err := schema.Load()
	require.NoError(t, err)
	hs := handlers()
	require.Len(t, hs, len(sch.Methods()))
	for _, m := range sch.Methods() {
		_, ok := hs[m.Method+" "+m.Path]
		require.True(t, ok, "no handler for %s %s", m.Method, m.Path)
	}
}

func TestLoopbackOnly(t *testing.T) {
	_, err := New(WithListenAddr("0.0.0.0:0"))
	require.ErrorContains(t, err, "loopback addresses only")
	_, err = New(WithListenAddr("10.10.2.2:8006"))
	require.ErrorContains(t, err, "loopback addresses only")
}

func TestPrivilegeResolution(t *testing.T) {
	w := &world{roles: builtinRoles()}
	sub := &subject{id: "t@pve!x", acl: []ACL{
		{Path: "/", Role: "PVEAuditor", Propagate: true},
		{Path: "/vms/100", Role: "PVEVMAdmin", Propagate: false},
		{Path: "/storage", Role: "NoAccess", Propagate: true},
	}}
	require.True(t, w.can(sub, "/nodes/pve", false, "Sys.Audit"), "inherited from /")
	require.True(t, w.can(sub, "/vms/100", false, "VM.Allocate"), "granted on the path itself")
	require.False(t, w.can(sub, "/vms/100", false, "Sys.Audit"), "a deeper grant replaces the inherited one")
	require.False(t, w.can(sub, "/vms/101", false, "VM.Allocate"))
	require.False(t, w.can(sub, "/storage/local", true, "Datastore.Audit"), "NoAccess propagates and overrides")
	require.True(t, w.can(sub, "/vms/100", true, "Sys.Audit", "VM.Audit"), "any of")
}

// TestSHA256Crypt checks the cipassword hash against crypt(3) results
// (the first is the "Hello world!" vector of Drepper's SHA-crypt
// specification, both as `openssl passwd -5` computes them).
func TestSHA256Crypt(t *testing.T) {
	tests := []struct{ password, salt, want string }{
		{"Hello world!", "saltstring", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"a much longer password that goes beyond thirty-two bytes", "abcdefgh", "$5$abcdefgh$C3m3k/9Ht2vi20fY4mbl11ikv.EfG/VBhIIrSxgf3RA"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, sha256Crypt(tt.password, tt.salt))
	}
}
