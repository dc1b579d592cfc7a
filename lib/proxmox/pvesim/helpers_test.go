package pvesim_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// sim is a simulator with a raw HTTP client, for contract tests that look at
// the wire: status line, reason phrase, envelope.
type sim struct {
	*pvesim.Server
	t      *testing.T
	client *http.Client
	auth   string // Authorization header
}

func newSim(t *testing.T, opts ...pvesim.Option) *sim {
	t.Helper()
	s, err := pvesim.New(opts...)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(s.CACertPEM()))
	id, secret := s.Token()
	return &sim{Server: s, t: t, client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		auth: "PVEAPIToken=" + id + "=" + secret}
}

// answer is a raw API answer.
type answer struct {
	status int
	reason string
	env    pve.Envelope
	body   string
}

func (a answer) data(t *testing.T, v any) {
	t.Helper()
	require.Equal(t, http.StatusOK, a.status, "answer: %s", a.body)
	require.NoError(t, json.Unmarshal(a.env.Data, v), "data: %s", a.env.Data)
}

// call sends a request with form-encoded parameters (query for GET/DELETE).
func (s *sim) call(method, path string, params map[string]string) answer {
	s.t.Helper()
	vals := url.Values{}
	for k, v := range params {
		vals.Set(k, v)
	}
	u := s.URL() + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(vals) > 0 {
			u += "?" + vals.Encode()
		}
	} else {
		body = strings.NewReader(vals.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	require.NoError(s.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return s.do(req)
}

// callJSON sends a JSON body, as go-proxmox does.
func (s *sim) callJSON(method, path string, params map[string]any) answer {
	s.t.Helper()
	b, err := json.Marshal(params)
	require.NoError(s.t, err)
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewReader(b))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	return s.do(req)
}

func (s *sim) do(req *http.Request) answer {
	s.t.Helper()
	if s.auth != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", s.auth)
	}
	resp, err := s.client.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	a := answer{status: resp.StatusCode, reason: strings.TrimPrefix(resp.Status, fmt.Sprintf("%d ", resp.StatusCode)), body: string(raw)}
	require.NoError(s.t, json.Unmarshal(raw, &a.env), "body is not a PVE envelope: %s", raw)
	return a
}

// waitTask polls a task until it stops and returns its exit status and log.
func (s *sim) waitTask(upid string) (string, []string) {
	s.t.Helper()
	u, err := pve.ParseUPID(upid)
	require.NoError(s.t, err)
	base := "/nodes/" + u.Node + "/tasks/" + upid
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var st struct {
			Status     string `json:"status"`
			ExitStatus string `json:"exitstatus"`
		}
		s.call("GET", base+"/status", nil).data(s.t, &st)
		if st.Status == "stopped" {
			var lines []struct {
				N int    `json:"n"`
				T string `json:"t"`
			}
			s.call("GET", base+"/log", map[string]string{"limit": "0"}).data(s.t, &lines)
			var out []string
			for _, l := range lines {
				out = append(out, l.T)
			}
			return st.ExitStatus, out
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.t.Fatalf("task %s did not stop", upid)
	return "", nil
}

// upid runs a call that must answer a UPID and returns it.
func (s *sim) upid(a answer) string {
	s.t.Helper()
	var id string
	a.data(s.t, &id)
	return id
}

// enableImport adds "import" to the content of "local", as the operator
// must on a real host.
func (s *sim) enableImport() {
	s.t.Helper()
	a := s.call("PUT", "/storage/local", map[string]string{"content": "iso,vztmpl,backup,import"})
	require.Equal(s.t, http.StatusOK, a.status, a.body)
}

// requireLockedUntilStopped checks that VM vmid holds lock while the task
// upid runs (a config change is refused with PVE's "VM is locked"), then
// stops the task and checks that it failed and left no VM behind.
func (s *sim) requireLockedUntilStopped(upid, vmid, lock string) {
	s.t.Helper()
	require.Equal(s.t, lock, s.config(vmid)["lock"])
	a := s.call("POST", "/nodes/pve/qemu/"+vmid+"/config", map[string]string{"cores": "2"})
	require.Equal(s.t, http.StatusInternalServerError, a.status)
	require.Equal(s.t, "VM is locked ("+lock+")", a.reason)

	require.Equal(s.t, http.StatusOK, s.call("DELETE", "/nodes/pve/tasks/"+upid, nil).status)
	exit, _ := s.waitTask(upid)
	require.Equal(s.t, "received interrupt", exit)
	require.Equal(s.t, http.StatusInternalServerError, s.call("GET", "/nodes/pve/qemu/"+vmid+"/config", nil).status, "an interrupted task leaves no VM")
}
