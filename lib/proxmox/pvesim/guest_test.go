package pvesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestGuest follows VM 100's guest as a coupled simulator sees it: not
// running before the start, running but not booted during the boot delay,
// the address of the cloud-init image it booted with even after ipconfig0
// changes (until the next start), gone with the VM. Reading it sends no
// request.
func TestGuest(t *testing.T) {
	s := powerSim(t, pvesim.WithGuestBootDelay(time.Hour))
	const booted = "ip=192.168.1.50/24,gw=192.168.1.1"

	g, ok := s.Guest(100)
	require.True(t, ok)
	require.Equal(t, pvesim.Guest{IPConfig: map[int]string{0: booted}}, g)

	s.requireRunning()
	g, _ = s.Guest(100)
	require.True(t, g.Running)
	require.False(t, g.Booted, "the guest boots for an hour")

	a := s.call("PUT", vmBase+"/config", map[string]string{"ipconfig0": "ip=192.168.1.60/24,gw=192.168.1.1"})
	require.Equal(t, 200, a.status, a.body)
	g, _ = s.Guest(100)
	require.Equal(t, map[int]string{0: booted}, g.IPConfig, "the running guest keeps the image it booted with")

	exit, log := s.power("stop", nil)
	require.Equal(t, "OK", exit, log)
	g, _ = s.Guest(100)
	require.False(t, g.Running)

	before := len(s.Requests())
	_, ok = s.Guest(101)
	require.False(t, ok, "no VM 101")
	require.Len(t, s.Requests(), before, "Guest sends no request")
}

// TestGuestBooted: with no boot delay the guest is up as soon as the start
// task ends; a VM without a cloud-init drive has no ipconfig in its guest.
func TestGuestBooted(t *testing.T) {
	s := powerSim(t)
	a := s.call("PUT", vmBase+"/config", map[string]string{"delete": "ide2"})
	require.Equal(t, 200, a.status, a.body)
	s.requireRunning()
	g, _ := s.Guest(100)
	require.True(t, g.Booted)
	require.Empty(t, g.IPConfig, "without the cloud-init drive the guest gets no network configuration")
}
