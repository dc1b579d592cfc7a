package pvesim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// subject is a user or a token, with what authenticates it and its ACL.
type subject struct {
	id     string // user@realm or user@realm!token
	secret string // token secret or user password
	token  bool
	acl    []ACL
}

// session is a ticket issued by POST /access/ticket.
type session struct {
	user    string
	csrf    string
	expires time.Time
}

var (
	errNoTicket   = &apiError{status: http.StatusUnauthorized, msg: "No ticket"}
	errAuthFailed = &apiError{status: http.StatusUnauthorized, msg: "Authentication failed!"}
	errCSRF       = &apiError{status: http.StatusUnauthorized, msg: "Permission denied - invalid csrf token"}
)

// authenticate finds who sends a request: an API token
// ("Authorization: PVEAPIToken=user@realm!name=secret") or a ticket cookie
// (with the CSRF header on anything but GET).
func (s *Server) authenticate(r *http.Request) (*subject, *apiError) {
	w := s.world
	w.mu.Lock()
	defer w.mu.Unlock()
	if h := r.Header.Get("Authorization"); h != "" {
		v, ok := strings.CutPrefix(h, "PVEAPIToken=")
		if !ok {
			return nil, errAuthFailed
		}
		id, secret, ok := strings.Cut(v, "=")
		sub, known := w.subjects[id]
		if !ok || !known || !sub.token || sub.secret != secret {
			return nil, errAuthFailed
		}
		return sub, nil
	}
	c, err := r.Cookie("PVEAuthCookie")
	if err != nil {
		return nil, errNoTicket
	}
	sess, ok := w.tickets[c.Value]
	if !ok || time.Now().After(sess.expires) {
		return nil, errAuthFailed
	}
	if r.Method != http.MethodGet && r.Header.Get("CSRFPreventionToken") != sess.csrf {
		return nil, errCSRF
	}
	return w.subjects[sess.user], nil
}

// createTicket answers POST /access/ticket.
func createTicket(s *Server, w *world, r *request) (any, error) {
	user := r.param("username")
	if realm := r.param("realm"); realm != "" && !strings.Contains(user, "@") {
		user += "@" + realm
	}
	sub, ok := w.subjects[user]
	if !ok || sub.token || sub.secret != r.param("password") {
		if s.authDelay > 0 {
			time.Sleep(s.authDelay)
		}
		return nil, &apiError{status: http.StatusUnauthorized, msg: "authentication failure"}
	}
	ticket := "PVE:" + user + ":" + randomHex(16)
	csrf := randomHex(8) + ":" + randomHex(16)
	w.tickets[ticket] = &session{user: user, csrf: csrf, expires: time.Now().Add(2 * time.Hour)}
	return map[string]any{"username": user, "ticket": ticket, "CSRFPreventionToken": csrf}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// privs returns the privileges sub holds on path: the grants of the deepest
// ACL path at or above it (grants above only when they propagate).
func (w *world) privs(sub *subject, path string) map[string]bool {
	best, bestLen := map[string]bool{}, -1
	for _, a := range sub.acl {
		applies := a.Path == path || (a.Propagate && isParentPath(a.Path, path))
		if !applies {
			continue
		}
		l := len(strings.TrimSuffix(a.Path, "/"))
		if l > bestLen {
			best, bestLen = map[string]bool{}, l
		}
		if l == bestLen {
			for _, p := range w.roles[a.Role] {
				best[p] = true
			}
		}
	}
	return best
}

func isParentPath(parent, path string) bool {
	if parent == "/" {
		return true
	}
	return strings.HasPrefix(path, strings.TrimSuffix(parent, "/")+"/")
}

// can reports whether sub holds all privs on path (any of them, when anyOf).
func (w *world) can(sub *subject, path string, anyOf bool, privs ...string) bool {
	have := w.privs(sub, path)
	for _, p := range privs {
		if have[p] && anyOf {
			return true
		}
		if !have[p] && !anyOf {
			return false
		}
	}
	return !anyOf
}

// checkSchemaPermissions evaluates the method's permission rule from the
// official schema against the caller.
func (s *Server) checkSchemaPermissions(r *request) error {
	if len(r.m.Permissions.Check) == 0 {
		return nil // "user": "all" or a rule the handler enforces itself
	}
	var expr []any
	if err := json.Unmarshal(r.m.Permissions.Check, &expr); err != nil {
		return failed("pvesim: permission rule of %s %s: %v", r.m.Method, r.m.Path, err)
	}
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	ok, denied := s.world.eval(r.who, expr, r.params)
	if !ok {
		return denied
	}
	return nil
}

// eval evaluates a schema check expression: ["perm", path, [privs], "any", 1],
// ["and", ...], ["or", ...], ["userid-param", "self"].
func (w *world) eval(sub *subject, expr []any, params map[string]string) (bool, *apiError) {
	if len(expr) == 0 {
		return false, forbidden("/", "unknown check")
	}
	op, _ := expr[0].(string)
	switch op {
	case "perm":
		path, _ := expr[1].(string)
		path = substitute(path, params)
		var privs []string
		if list, ok := expr[2].([]any); ok {
			for _, p := range list {
				privs = append(privs, fmt.Sprint(p))
			}
		}
		anyOf := slices.Contains(expr[3:], "any")
		if w.can(sub, path, anyOf, privs...) {
			return true, nil
		}
		return false, forbidden(path, privs...)
	case "and":
		for _, sub2 := range expr[1:] {
			e, _ := sub2.([]any)
			if ok, denied := w.eval(sub, e, params); !ok {
				return false, denied
			}
		}
		return true, nil
	case "or":
		var first *apiError
		for _, sub2 := range expr[1:] {
			e, _ := sub2.([]any)
			ok, denied := w.eval(sub, e, params)
			if ok {
				return true, nil
			}
			if first == nil {
				first = denied
			}
		}
		return false, first
	case "userid-param":
		if u := params["userid"]; u == "" || u == sub.id || strings.HasPrefix(sub.id, u+"!") {
			return true, nil
		}
		return false, forbidden("/access", "User.Modify")
	}
	return false, forbidden("/", "unsupported check '"+op+"'")
}

// substitute fills {param} placeholders of an ACL path.
func substitute(path string, params map[string]string) string {
	for k, v := range params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	return path
}

// permissions answers GET /access/permissions: every ACL path of the caller
// (or of the given userid, one of the caller's tokens) with its privileges
// and whether each propagates.
func permissions(_ *Server, w *world, r *request) (any, error) {
	sub := r.who
	if u := r.param("userid"); u != "" && u != sub.id {
		other, ok := w.subjects[u]
		if !ok || !strings.HasPrefix(u, sub.id+"!") {
			return nil, forbidden("/access", "Sys.Audit")
		}
		sub = other
	}
	out := map[string]map[string]int{}
	for _, a := range sub.acl {
		if p := r.param("path"); p != "" && p != a.Path {
			continue
		}
		privs := out[a.Path]
		if privs == nil {
			privs = map[string]int{}
			out[a.Path] = privs
		}
		for _, p := range w.roles[a.Role] {
			if a.Propagate {
				privs[p] = 1
			} else if _, set := privs[p]; !set {
				privs[p] = 0
			}
		}
	}
	if p := r.param("path"); p != "" && out[p] == nil {
		privs := map[string]int{}
		for priv := range w.privs(sub, p) {
			privs[priv] = 1
		}
		out[p] = privs
	}
	return out, nil
}
