package proxmox

import (
	"context"
	"strings"
)

// Permissions are a token's privileges per ACL path, as
// /access/permissions lists them: path → privilege → whether it
// propagates to the paths below.
type Permissions map[string]map[string]bool

// Permissions returns the token's privileges per ACL path.
func (c *Client) Permissions(ctx context.Context) (Permissions, error) {
	var raw map[string]map[string]int
	if err := c.get(ctx, "/access/permissions", nil, &raw); err != nil {
		return nil, err
	}
	out := make(Permissions, len(raw))
	for path, privs := range raw {
		m := make(map[string]bool, len(privs))
		for p, prop := range privs {
			m[p] = prop == 1
		}
		out[path] = m
	}
	return out, nil
}

// Effective returns the privileges held on path: those listed for the
// path itself, else those that propagate from the deepest listed ancestor,
// as PVE resolves ACLs.
func (p Permissions) Effective(path string) map[string]bool {
	best, bestLen := map[string]bool{}, -1
	for acl, privs := range p {
		exact := acl == path
		if !exact && acl != "/" && !strings.HasPrefix(path, strings.TrimSuffix(acl, "/")+"/") {
			continue
		}
		got := map[string]bool{}
		for priv, propagate := range privs {
			if exact || propagate {
				got[priv] = true
			}
		}
		if !exact && len(got) == 0 {
			continue // nothing here reaches below acl
		}
		if l := len(strings.TrimSuffix(acl, "/")); l > bestLen {
			best, bestLen = got, l
		}
	}
	return best
}

// Missing returns the privileges of privs not held on path, in the order
// given; none when all are held.
func (p Permissions) Missing(path string, privs ...string) []string {
	have := p.Effective(path)
	var missing []string
	for _, priv := range privs {
		if !have[priv] {
			missing = append(missing, priv)
		}
	}
	return missing
}
