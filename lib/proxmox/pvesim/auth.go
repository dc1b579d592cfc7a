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
	// owner is a token's user; nil for a token whose user the setup does
	// not list (an implicit user that may do everything).
	owner *subject
	// privsep says a token holds the intersection of its own and its
	// user's privileges; a token without holds its user's.
	privsep bool
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

// privs returns the privileges sub holds on path, each with whether it
// propagates, as PVE::RPCEnvironment::permissions computes them: root@pam
// holds every privilege; a user the roles of the deepest ACL path at or
// above path that reaches it (grants above only when they propagate); a
// token without privsep its user's; a privilege-separated token those its
// own ACL and its user's both grant (propagating when both do).
func (w *world) privs(sub *subject, path string) map[string]bool {
	if sub.id == "root@pam" {
		all := map[string]bool{}
		for _, p := range w.roles["Administrator"] {
			all[p] = true
		}
		return all
	}
	if !sub.token || sub.owner == nil {
		return w.aclPrivs(sub.acl, path)
	}
	user := w.privs(sub.owner, path)
	if !sub.privsep {
		return user
	}
	own := w.aclPrivs(sub.acl, path)
	if sub.owner.id == "root@pam" {
		return own
	}
	both := map[string]bool{}
	for p, prop := range own {
		if userProp, ok := user[p]; ok {
			both[p] = prop && userProp
		}
	}
	return both
}

// aclPrivs resolves an ACL on path as PVE::AccessControl::roles does: the
// roles of the deepest ACL path at or above path that reaches it replace
// those above; a privilege propagates when a role granting it does.
func (w *world) aclPrivs(acl []ACL, path string) map[string]bool {
	best, bestLen := map[string]bool{}, -1
	for _, a := range acl {
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
				best[p] = best[p] || a.Propagate
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
		_, held := have[p]
		if held && anyOf {
			return true
		}
		if !held && !anyOf {
			return false
		}
	}
	return !anyOf
}

// check is PVE's $rpcenv->check (all of privs) or check_any (anyOf) on
// path: nil, or the 403 naming the first privilege missing (all of them,
// joined by "|", for anyOf).
func (w *world) check(sub *subject, path string, anyOf bool, privs ...string) error {
	if w.can(sub, path, anyOf, privs...) {
		return nil
	}
	if anyOf {
		return forbidden(path, privs...)
	}
	have := w.privs(sub, path)
	for _, p := range privs {
		if _, held := have[p]; !held {
			return forbidden(path, p)
		}
	}
	return nil
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

// topLevelPaths are the paths GET /access/permissions always looks at
// (PVE::RPCEnvironment::get_effective_permissions).
var topLevelPaths = []string{"/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms"}

// permissions answers GET /access/permissions as
// PVE::API2::AccessControl's permissions does: for the caller (or the
// given userid: one of the caller's tokens, or anyone with Sys.Audit on
// /access), the privileges on the given path (even none), or without a
// path on every top-level path and every path of the ACL tree where it
// holds any, each privilege with whether it propagates.
func permissions(_ *Server, w *world, r *request) (any, error) {
	sub := r.who
	if u := r.param("userid"); u != "" && u != sub.id {
		if owner, _, _ := strings.Cut(u, "!"); owner != sub.id {
			if err := w.check(sub, "/access", false, "Sys.Audit"); err != nil {
				return nil, err
			}
		}
		other, ok := w.subjects[u]
		if !ok {
			other = &subject{id: u, token: strings.Contains(u, "!"), privsep: true}
		}
		sub = other
	}
	render := func(path string) map[string]int {
		out := map[string]int{}
		for p, prop := range w.privs(sub, path) {
			out[p] = 0
			if prop {
				out[p] = 1
			}
		}
		return out
	}
	if p := r.param("path"); p != "" {
		return map[string]map[string]int{p: render(p)}, nil
	}
	paths := map[string]bool{}
	for _, p := range topLevelPaths {
		paths[p] = true
	}
	for _, other := range w.subjects {
		for _, a := range other.acl {
			paths[a.Path] = true
		}
	}
	out := map[string]map[string]int{}
	for p := range paths {
		if privs := render(p); len(privs) > 0 {
			out[p] = privs
		}
	}
	return out, nil
}
