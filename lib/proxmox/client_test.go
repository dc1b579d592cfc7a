package proxmox_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

func TestTLSVerification(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	noPin := e.cfg
	noPin.Fingerprint = ""

	t.Run("on by default: a self-signed host is refused", func(t *testing.T) {
		_, err := e.newClient(t, noPin).Version(ctx)
		var netErr *proxmox.NetworkError
		require.ErrorAs(t, err, &netErr)
		require.ErrorContains(t, err, "certificate")
	})
	t.Run("CA file", func(t *testing.T) {
		ca := filepath.Join(t.TempDir(), "pve-ca.pem")
		require.NoError(t, os.WriteFile(ca, e.sim.CACertPEM(), 0o600))
		cfg := noPin
		cfg.CAFile = ca
		v, err := e.newClient(t, cfg).Version(ctx)
		require.NoError(t, err)
		require.Equal(t, "9.0", v.Release)
	})
	t.Run("fingerprint pin", func(t *testing.T) {
		v, err := e.client.Version(ctx)
		require.NoError(t, err)
		require.Equal(t, 9, v.Major())
	})
	t.Run("wrong fingerprint", func(t *testing.T) {
		cfg := e.cfg
		cfg.Fingerprint = strings.Repeat("00:", 31) + "00"
		_, err := e.newClient(t, cfg).Version(ctx)
		require.ErrorContains(t, err, "does not match the pinned")
	})
	t.Run("skipping verification is logged", func(t *testing.T) {
		cfg := noPin
		cfg.InsecureSkipVerify = true
		_, err := e.newClient(t, cfg).Version(ctx)
		require.NoError(t, err)
		require.Contains(t, e.logs.String(), "TLS verification of the Proxmox API is OFF")
	})
}

func TestTypedAPIErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t.Run("a mistyped parameter gets PVE's 400 message", func(t *testing.T) {
		_, err := e.client.CreateVM(ctx, "pve", 100, proxmox.Params{"cores": "two", "speed": 9}, nil)
		var apiErr *proxmox.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
		require.Equal(t, "Parameter verification failed.", apiErr.Message)
		require.Equal(t, "type check ('integer') failed - got 'two'", apiErr.Param("cores"))
		require.Equal(t, "property is not defined in schema and the schema does not allow additional properties", apiErr.Param("speed"))
		require.ErrorContains(t, err, "create VM 100: POST /nodes/pve/qemu: 400 Parameter verification failed.: cores: type check")
	})
	t.Run("missing VM", func(t *testing.T) {
		_, err := e.client.VMConfig(ctx, "pve", 999)
		require.True(t, proxmox.IsNotFound(err))
		require.True(t, proxmox.IsStatus(err, http.StatusInternalServerError))
		require.ErrorContains(t, err, "GET /nodes/pve/qemu/999/config: 500 Configuration file 'nodes/pve/qemu-server/999.conf' does not exist")
	})
	t.Run("refused token never shows its secret", func(t *testing.T) {
		cfg := e.cfg
		cfg.TokenSecret = "client-test-secret"
		_, err := e.newClient(t, cfg).Version(ctx)
		require.True(t, proxmox.IsStatus(err, http.StatusUnauthorized))
		require.ErrorContains(t, err, "check the token ID and secret")
		require.NotContains(t, err.Error(), cfg.TokenSecret)
		require.NotContains(t, e.logs.String(), cfg.TokenSecret)
		require.NotContains(t, e.logs.String(), e.cfg.TokenSecret)
	})
	t.Run("596 is an error, not a nil answer", func(t *testing.T) {
		for range 3 {
			e.sim.FailNextRequest("GET", "/nodes", 596, "Connection timed out")
		}
		_, err := e.client.Nodes(ctx)
		require.True(t, proxmox.IsStatus(err, 596), "got %v", err)
	})
}

func TestRetries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t.Run("GET is retried on 503 and 596", func(t *testing.T) {
		e.sim.FailNextRequest("GET", "/nodes", http.StatusServiceUnavailable, "Service Unavailable")
		e.sim.FailNextRequest("GET", "/nodes", 596, "Connection timed out")
		before := e.requests("GET", "/nodes")
		nodes, err := e.client.Nodes(ctx)
		require.NoError(t, err)
		require.Len(t, nodes, 1)
		require.Equal(t, 3, e.requests("GET", "/nodes")-before)
	})
	t.Run("GET is retried on a connection reset", func(t *testing.T) {
		e.sim.ResetNextRequest("GET", "/version", 0)
		e.sim.ResetNextRequest("GET", "/version", 0)
		_, err := e.client.Version(ctx)
		require.NoError(t, err)
	})
	t.Run("POST is never retried after it was sent", func(t *testing.T) {
		e.sim.FailNextRequest("POST", "/nodes/pve/qemu", http.StatusServiceUnavailable, "Service Unavailable")
		before := e.requests("POST", "/nodes/pve/qemu")
		_, err := e.client.CreateVM(ctx, "pve", 120, nil, nil)
		require.True(t, proxmox.IsStatus(err, http.StatusServiceUnavailable))
		require.Equal(t, 1, e.requests("POST", "/nodes/pve/qemu")-before)
	})
	t.Run("POST reset mid-request is not retried and says so", func(t *testing.T) {
		e.sim.ResetNextRequest("POST", "/nodes/pve/qemu", 0)
		before := e.requests("POST", "/nodes/pve/qemu")
		_, err := e.client.CreateVM(ctx, "pve", 121, nil, nil)
		var netErr *proxmox.NetworkError
		require.ErrorAs(t, err, &netErr)
		require.Equal(t, "POST", netErr.Method)
		require.Equal(t, "/nodes/pve/qemu", netErr.Path)
		require.ErrorContains(t, err, "may have been applied")
		require.Equal(t, 1, e.requests("POST", "/nodes/pve/qemu")-before)
	})
	t.Run("a host that refuses connections", func(t *testing.T) {
		// Nothing can listen on port 0, so the refusal is certain; a port
		// freed by a closed listener could be taken by another test.
		cfg := e.cfg
		cfg.URL = "https://127.0.0.1:0/api2/json"
		_, err := e.newClient(t, cfg).Version(ctx)
		var netErr *proxmox.NetworkError
		require.ErrorAs(t, err, &netErr)
		require.Equal(t, 3, netErr.Attempts, "dial failures are retried: the request never left")
		require.ErrorContains(t, err, "connection refused")
	})
	t.Run("context cancellation ends the retries", func(t *testing.T) {
		e.sim.StallNextRequest("GET", "/version", time.Hour)
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := e.client.Version(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestNextIDAndPermissions(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 100, Name: "a"}}
	e := newEnv(t, pvesim.WithSetup(setup))
	ctx := context.Background()
	id, err := e.client.NextID(ctx)
	require.NoError(t, err)
	require.Equal(t, 101, id)
	free, err := e.client.VMIDFree(ctx, 100)
	require.NoError(t, err)
	require.False(t, free)
	free, err = e.client.VMIDFree(ctx, 9000)
	require.NoError(t, err)
	require.True(t, free)

	perms, err := e.client.Permissions(ctx)
	require.NoError(t, err)
	require.True(t, perms["/"]["VM.Allocate"])
	bridges, err := e.client.Bridges(ctx, "pve")
	require.NoError(t, err)
	require.Equal(t, []string{"vmbr0"}, bridges)
}

func TestWaitTask(t *testing.T) {
	e := newEnv(t, pvesim.WithTaskDuration(100*time.Millisecond))
	ctx := context.Background()
	t.Run("a failed task is an error", func(t *testing.T) {
		e.sim.FailNextTask("qmcreate", "unable to create VM 130 - disk full")
		_, err := e.client.CreateVM(ctx, "pve", 130, nil, nil)
		var taskErr *proxmox.TaskError
		require.ErrorAs(t, err, &taskErr)
		require.Equal(t, "unable to create VM 130 - disk full", taskErr.ExitStatus)
		require.Equal(t, "qmcreate", taskErr.UPID.Type)
		require.Equal(t, "TASK ERROR: unable to create VM 130 - disk full", taskErr.Log[len(taskErr.Log)-1])
		require.ErrorContains(t, err, "create VM 130: task qmcreate:130 on pve failed: unable to create VM 130 - disk full")
	})
	t.Run("warnings are success", func(t *testing.T) {
		e.sim.WarnNextTask("qmcreate", 1)
		res, err := e.client.CreateVM(ctx, "pve", 131, nil, nil)
		require.NoError(t, err)
		require.Equal(t, "WARNINGS: 1", res.ExitStatus)
		require.Equal(t, 1, res.Warnings)
	})
	t.Run("the empty log's placeholder is not a log line", func(t *testing.T) {
		// A task that has logged nothing yet answers [{n:1,t:"no
		// content"}] (pve-common PVE::Tools::dump_logfile): the wait must
		// neither record it nor skip the real first line for it.
		var seen []string
		res, err := e.client.CreateVM(ctx, "pve", 133, nil, func(ev proxmox.TaskEvent) { seen = append(seen, ev.Line) })
		require.NoError(t, err)
		require.Equal(t, []string{"TASK OK"}, res.Log)
		require.Equal(t, []string{"TASK OK"}, seen)
	})
	t.Run("cancelling the wait", func(t *testing.T) {
		slow := newEnv(t, pvesim.WithTaskDuration(time.Hour))
		ctx, cancel := context.WithCancel(ctx)
		// Cancel once the wait has begun: a fixed delay could cancel the
		// POST itself on a loaded machine.
		go func() {
			for slow.requests("GET", "/nodes/pve/tasks/") == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := slow.client.CreateVM(ctx, "pve", 132, nil, nil)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorContains(t, err, "it keeps running on the host")
	})
	t.Run("a malformed UPID is an error, not a panic", func(t *testing.T) {
		_, err := e.client.WaitTask(ctx, "UPID:pve:1:2:3:x:y:z", nil)
		require.ErrorContains(t, err, "unable to parse worker upid")
	})
}

func TestLockedVMErrorNamesTheOperation(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 100, Name: "busy"}}
	e := newEnv(t, pvesim.WithSetup(setup))
	require.True(t, e.sim.HoldLock(100, "backup"))
	_, err := e.client.DeleteVM(context.Background(), "pve", 100, true)
	var apiErr *proxmox.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "VM is locked (backup)", apiErr.Message)
	require.ErrorContains(t, err, "delete VM 100: DELETE /nodes/pve/qemu/100: 500 VM is locked (backup)")
}
