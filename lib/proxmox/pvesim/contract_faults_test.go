package pvesim_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFaultInjection(t *testing.T) {
	s := newSim(t)
	t.Run("answer a status", func(t *testing.T) {
		s.FailNextRequest("GET", "/version", 596, "Connection timed out")
		a := s.call("GET", "/version", nil)
		require.Equal(t, 596, a.status)
		require.Equal(t, "Connection timed out", a.reason)
		require.Equal(t, http.StatusOK, s.call("GET", "/version", nil).status, "a fault fires once")
	})
	t.Run("reset the connection", func(t *testing.T) {
		s.ResetNextRequest("GET", "/nodes", 0)
		req, err := http.NewRequest("GET", s.URL()+"/nodes", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", s.auth)
		// A fresh connection: net/http silently retries a GET once on a
		// reused connection that breaks.
		fresh := &http.Client{Transport: s.client.Transport.(*http.Transport).Clone()}
		fresh.Transport.(*http.Transport).DisableKeepAlives = true
		_, err = fresh.Do(req)
		require.Error(t, err)
		last := s.Requests()[len(s.Requests())-1]
		require.Equal(t, "/nodes", last.Path)
		require.Equal(t, 0, last.Status, "a reset request is recorded without a status")
	})
	t.Run("stall", func(t *testing.T) {
		s.StallNextRequest("GET", "/version", time.Millisecond)
		require.Equal(t, http.StatusOK, s.call("GET", "/version", nil).status, "a stalled request is answered in the end")

		s.StallNextRequest("GET", "/version", time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", s.URL()+"/version", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", s.auth)
		_, err = s.client.Do(req)
		require.ErrorIs(t, err, context.DeadlineExceeded, "a stalled request ends when the client gives up")
	})
	t.Run("hold a lock", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100"})))
		require.Equal(t, "OK", exit)
		require.True(t, s.HoldLock(100, "backup"))
		a := s.call("DELETE", "/nodes/pve/qemu/100", nil)
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "VM is locked (backup)", a.reason)
		s.ReleaseLock(100)
		exit, _ = s.waitTask(s.upid(s.call("DELETE", "/nodes/pve/qemu/100", nil)))
		require.Equal(t, "OK", exit)
		require.False(t, s.HoldLock(100, "backup"), "no VM, no lock")
	})
}
