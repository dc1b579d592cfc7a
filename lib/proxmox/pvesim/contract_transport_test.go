package pvesim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// These contract tests pin the simulator to the PVE 9 behaviour written down
// in shared/reference/proxmox-api.md, on the wire: status, reason phrase,
// envelope.

func TestContractSuccessEnvelope(t *testing.T) {
	s := newSim(t)
	a := s.call("GET", "/version", nil)
	require.Equal(t, http.StatusOK, a.status)
	require.Equal(t, "OK", a.reason)
	var v struct {
		Version string `json:"version"`
		Release string `json:"release"`
		RepoID  string `json:"repoid"`
	}
	a.data(t, &v)
	require.Equal(t, "9.0.3", v.Version)
	require.Equal(t, "9.0", v.Release)
	require.NotEmpty(t, v.RepoID)
	require.Nil(t, a.env.Errors)
}

func TestContractAuthentication(t *testing.T) {
	s := newSim(t)
	tests := []struct {
		name       string
		header     string
		wantStatus int
		wantMsg    string
	}{
		{"no credentials", "", http.StatusUnauthorized, "No ticket"},
		{"wrong secret", "PVEAPIToken=" + pvesim.DefaultTokenID + "=00000000-0000-0000-0000-000000000000", http.StatusUnauthorized, "Authentication failed!"},
		{"unknown token", "PVEAPIToken=root@pam!nope=x", http.StatusUnauthorized, "Authentication failed!"},
		{"not a token header", "Bearer abc", http.StatusUnauthorized, "Authentication failed!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", s.URL()+"/nodes", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", tt.header)
			saved := s.auth
			s.auth = ""
			a := s.do(req)
			s.auth = saved
			require.Equal(t, tt.wantStatus, a.status)
			require.Equal(t, tt.wantMsg, a.reason, "the reason phrase is the message")
			require.Equal(t, tt.wantMsg+"\n", a.env.Message)
			require.Equal(t, "null", string(a.env.Data))
		})
	}
}

func TestContractTicketAuthNeedsCSRF(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.Users[0].Password = "secret-pw"
	s := newSim(t, pvesim.WithSetup(setup))
	s.auth = ""
	a := s.call("POST", "/access/ticket", map[string]string{"username": "root@pam", "password": "wrong"})
	require.Equal(t, http.StatusUnauthorized, a.status)

	a = s.call("POST", "/access/ticket", map[string]string{"username": "root@pam", "password": "secret-pw"})
	var ticket struct {
		Ticket string `json:"ticket"`
		CSRF   string `json:"CSRFPreventionToken"`
		User   string `json:"username"`
	}
	a.data(t, &ticket)
	require.Equal(t, "root@pam", ticket.User)

	withCookie := func(method, path, csrf string) answer {
		req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(url.Values{"content": {"iso,import"}}.Encode()))
		require.NoError(t, err)
		if method == "GET" {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(&http.Cookie{Name: "PVEAuthCookie", Value: ticket.Ticket})
		if csrf != "" {
			req.Header.Set("CSRFPreventionToken", csrf)
		}
		return s.do(req)
	}
	require.Equal(t, http.StatusOK, withCookie("GET", "/version", "").status, "GET needs no CSRF token")
	a = withCookie("PUT", "/storage/local", "")
	require.Equal(t, http.StatusUnauthorized, a.status)
	require.Equal(t, "Permission denied - invalid csrf token", a.reason)
	require.Equal(t, http.StatusOK, withCookie("PUT", "/storage/local", ticket.CSRF).status)
}

func TestContractUnknownRouteIs501(t *testing.T) {
	s := newSim(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/nodes/pve/lxc"},
		{"GET", "/cluster/ha/resources"},
		{"POST", "/version"},
	} {
		a := s.call(tc.method, tc.path, nil)
		require.Equal(t, http.StatusNotImplemented, a.status, tc.path)
		require.Equal(t, "Method '"+tc.method+" "+tc.path+"' not implemented", a.reason)
	}
}

func TestContractBodyOnGETIs501(t *testing.T) {
	s := newSim(t)
	req, err := http.NewRequest("GET", s.URL()+"/version", strings.NewReader("a=b"))
	require.NoError(t, err)
	a := s.do(req)
	require.Equal(t, http.StatusNotImplemented, a.status)
	require.Equal(t, "Unexpected content for method 'GET'", a.reason)
}

func TestContractParameterVerification(t *testing.T) {
	s := newSim(t)
	s.enableImport()
	base := map[string]string{"url": "https://example.invalid/x.qcow2", "content": "import", "filename": "x.qcow2"}
	with := func(k, v string) map[string]string {
		p := map[string]string{}
		for a, b := range base {
			p[a] = b
		}
		if v == "" {
			delete(p, k)
		} else {
			p[k] = v
		}
		return p
	}
	tests := []struct {
		name   string
		params map[string]string
		param  string
		msg    string
	}{
		{"unknown parameter", with("speed", "fast"), "speed", "property is not defined in schema and the schema does not allow additional properties"},
		{"missing parameter", with("url", ""), "url", "property is missing and it is not optional"},
		{"bad enum", with("content", "images"), "content", "value 'images' does not have a value in the enumeration 'iso, vztmpl, import'"},
		{"boolean spelled true", with("verify-certificates", "true"), "verify-certificates", "type check ('boolean') failed - got 'true'"},
		{"url pattern", with("url", "ftp://example.invalid/x"), "url", "value does not match the regex pattern"},
		// pve-common 9.2 JSONSchema.pm check_object words a missing dependency "missing property required by '$newpath'".
		{"checksum without algorithm", with("checksum", "abc"), "checksum-algorithm", "missing property required by 'checksum'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.call("POST", "/nodes/pve/storage/local/download-url", tt.params)
			require.Equal(t, http.StatusBadRequest, a.status)
			require.Equal(t, "Parameter verification failed.", a.reason)
			require.Equal(t, "Parameter verification failed.\n", a.env.Message)
			require.Equal(t, map[string]string{tt.param: tt.msg + "\n"}, a.env.Errors)
		})
	}
	t.Run("malformed VM IDs", func(t *testing.T) {
		for _, id := range []string{"99", "abc", "1000000000"} {
			a := s.call("GET", "/nodes/pve/qemu/"+id+"/config", nil)
			require.Equal(t, http.StatusBadRequest, a.status, id)
			require.Equal(t, "invalid format - value does not look like a valid VM ID\n", a.env.Errors["vmid"], id)
		}
	})
	t.Run("JSON bodies are validated the same", func(t *testing.T) {
		a := s.callJSON("POST", "/nodes/pve/qemu", map[string]any{"vmid": 100, "cores": "two", "sockets": true})
		require.Equal(t, http.StatusBadRequest, a.status)
		require.Equal(t, "type check ('integer') failed - got 'two'\n", a.env.Errors["cores"])
		require.Equal(t, "type check ('integer') failed - got 'true'\n", a.env.Errors["sockets"])
	})
}

func TestContractPermissionsAnswer403(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.Tokens = append(setup.Tokens, pvesim.Token{ID: "infra@pve!audit", Secret: "audit-secret",
		ACL: []pvesim.ACL{{Path: "/", Role: "PVEAuditor", Propagate: true}}})
	s := newSim(t, pvesim.WithSetup(setup))
	s.auth = "PVEAPIToken=infra@pve!audit=audit-secret"

	a := s.call("PUT", "/storage/local", map[string]string{"content": "iso,import"})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/storage, Datastore.Allocate)", a.reason)

	a = s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100"})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/vms/100, VM.Allocate)", a.reason)

	var perms map[string]map[string]int
	s.call("GET", "/access/permissions", nil).data(t, &perms)
	require.Equal(t, 1, perms["/"]["Sys.Audit"])
	require.Equal(t, 1, perms["/"]["VM.Audit"])
	_, canAllocate := perms["/"]["VM.Allocate"]
	require.False(t, canAllocate)
}

func TestContractQueryMergedAndBodyLimit(t *testing.T) {
	s := newSim(t)
	req, err := http.NewRequest("POST", s.URL()+"/nodes/pve/qemu?vmid=123", strings.NewReader("name=merged"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	exit, _ := s.waitTask(s.upid(s.do(req)))
	require.Equal(t, "OK", exit, "query parameters are merged with the body")
	require.Equal(t, "merged", s.config("123")["name"])

	big := strings.Repeat("x", 600<<10)
	a := s.call("PUT", "/nodes/pve/qemu/123/config", map[string]string{"description": big})
	require.Equal(t, http.StatusRequestEntityTooLarge, a.status, "bodies over 512 KiB are refused")
}

func TestContractQemuStringFormats(t *testing.T) {
	s := newSim(t)
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGvmxp2CTEmRShUMZnlOZRgR+8yQhWlO2sakDfiQRchL wdiaz@homelab"
	a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100", "sshkeys": key})
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Contains(t, a.env.Errors["sshkeys"], "invalid format - invalid urlencoded string")

	encoded := strings.ReplaceAll(url.QueryEscape(key), "+", "%20")
	exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100", "sshkeys": encoded})))
	require.Equal(t, "OK", exit, "percent-encoded with %%20 is accepted")
	require.Equal(t, encoded, s.config("100")["sshkeys"])

	a = s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "101", "archive": "local:backup/vzdump-qemu-9200.vma.zst"})
	require.Equal(t, http.StatusNotImplemented, a.status, "restores are not simulated: they answer 501, never a silent 200")
}

// TestContractUnknownNodeIs500 pins PVE's answer to a node it cannot
// resolve, on every endpoint that checks the {node} of its path first: 500
// "hostname lookup ... failed", before it looks for the VM or storage (the
// default host has no VM 100 and no storage "nope").
func TestContractUnknownNodeIs500(t *testing.T) {
	s := newSim(t)
	tests := []struct {
		method, path string
		params       map[string]string
	}{
		{"GET", "/nodes/other/status", nil},
		{"GET", "/nodes/other/network", nil},
		{"GET", "/nodes/other/storage", nil},
		{"GET", "/nodes/other/storage/local/status", nil},
		{"GET", "/nodes/other/storage/local/content", nil},
		{"GET", "/nodes/other/storage/nope/status", nil},
		{"POST", "/nodes/other/storage/local/download-url", map[string]string{"content": "iso", "filename": "a.iso", "url": "http://127.0.0.1:1/a.iso"}},
		{"GET", "/nodes/other/qemu", nil},
		{"POST", "/nodes/other/qemu", map[string]string{"vmid": "200"}},
		{"DELETE", "/nodes/other/qemu/100", nil},
		{"GET", "/nodes/other/qemu/100/config", nil},
		{"PUT", "/nodes/other/qemu/100/config", map[string]string{"name": "x"}},
		{"POST", "/nodes/other/qemu/100/config", map[string]string{"name": "x"}},
		{"GET", "/nodes/other/qemu/100/status/current", nil},
		{"PUT", "/nodes/other/qemu/100/resize", map[string]string{"disk": "scsi0", "size": "+1G"}},
		{"POST", "/nodes/other/qemu/100/template", nil},
		{"POST", "/nodes/other/qemu/100/clone", map[string]string{"newid": "201"}},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			a := s.call(tc.method, tc.path, tc.params)
			require.Equal(t, http.StatusInternalServerError, a.status, a.body)
			require.Equal(t, "hostname lookup 'other' failed - failed to get address info for: other: Name or service not known", a.reason)
		})
	}
}
