package talosnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wdiazux/infra/lib/inventory"
)

// NodeHealth is what the health check found on one node.
type NodeHealth struct {
	// Node and Role are the inventory's.
	Node, Role string
	// Version is the Talos version the node runs, "" when unreachable.
	Version string
	// Services counts the node's services and the healthy ones.
	Services, Healthy int
	// EtcdMembers is the count of etcd's voting members a control plane
	// reports.
	EtcdMembers int
	// Problems are what is wrong, empty when the node is healthy.
	Problems []string
}

// HealthReport is the health of every node.
type HealthReport struct {
	// Nodes are in inventory order.
	Nodes []NodeHealth
	// Checked is when the report was made.
	Checked time.Time
}

// Healthy says no node has a problem.
func (r *HealthReport) Healthy() bool {
	for _, n := range r.Nodes {
		if len(n.Problems) > 0 {
			return false
		}
	}
	return true
}

// ErrUnhealthy means the cluster was not healthy by the deadline.
var ErrUnhealthy = errors.New("the cluster is not healthy")

// HealthOptions are the settings of Health.
type HealthOptions struct {
	// Wait keeps checking until the cluster is healthy or this much time
	// has passed (0 checks once).
	Wait time.Duration
	// Interval is the time between checks (default 5s).
	Interval time.Duration
	// Progress receives every report while waiting.
	Progress func(*HealthReport)
}

// Health checks every node through the Talos API: it answers, runs the
// inventory's Talos version, every service runs and is healthy, and each
// control plane's etcd has exactly the inventory's control planes as
// voting members (no learner still joining, no member of a node removed
// from the inventory). With Wait it
// checks until healthy or the deadline, and returns ErrUnhealthy with the
// last problems when the deadline passes. Without a readable talosconfig
// it asks no node and returns why (a *MissingFileError when there is none).
func (c *Cluster) Health(ctx context.Context, o HealthOptions) (*HealthReport, error) {
	if _, err := c.talosconfig(); err != nil {
		return nil, err
	}
	interval := o.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	deadline := time.Now().Add(o.Wait)
	for {
		rep := c.check(ctx)
		if o.Progress != nil {
			o.Progress(rep)
		}
		if rep.Healthy() {
			return rep, nil
		}
		if o.Wait <= 0 || time.Now().Add(interval).After(deadline) {
			return rep, fmt.Errorf("%w: %s", ErrUnhealthy, strings.Join(rep.problems(), "; "))
		}
		select {
		case <-ctx.Done():
			return rep, fmt.Errorf("%w (stopped waiting: %w): %s", ErrUnhealthy, ctx.Err(), strings.Join(rep.problems(), "; "))
		case <-time.After(interval):
		}
	}
}

func (r *HealthReport) problems() []string {
	var out []string
	for _, n := range r.Nodes {
		for _, p := range n.Problems {
			out = append(out, n.Node+": "+p)
		}
	}
	return out
}

// check makes one report.
func (c *Cluster) check(ctx context.Context) *HealthReport {
	rep := &HealthReport{Checked: time.Now()}
	cps := c.inv.Talos.ControlPlanes()
	for _, n := range c.inv.Talos.Nodes {
		rep.Nodes = append(rep.Nodes, c.checkNode(ctx, n, cps))
	}
	return rep
}

func (c *Cluster) checkNode(ctx context.Context, n inventory.TalosNode, cps []inventory.TalosNode) NodeHealth {
	h := NodeHealth{Node: n.Name, Role: n.Role}
	cl, err := c.connect(ctx, n)
	if err != nil {
		h.Problems = append(h.Problems, err.Error())
		return h
	}
	defer cl.Close() //nolint:errcheck
	if h.Version, err = talosVersion(ctx, cl); err != nil {
		h.Problems = append(h.Problems, "unreachable: "+c.nodeErr(n, "version", err).Error())
		return h
	}
	if h.Version != c.inv.Talos.Version {
		h.Problems = append(h.Problems, fmt.Sprintf("runs Talos %s, the inventory says %s", h.Version, c.inv.Talos.Version))
	}
	svcs, err := cl.ServiceList(ctx)
	if err != nil {
		h.Problems = append(h.Problems, c.nodeErr(n, "list services", err).Error())
	}
	for _, m := range svcs.GetMessages() {
		for _, s := range m.GetServices() {
			h.Services++
			switch {
			case s.GetState() != "Running":
				h.Problems = append(h.Problems, fmt.Sprintf("service %s is %s%s", s.GetId(), s.GetState(), lastMessage(s.GetHealth().GetLastMessage())))
			case !s.GetHealth().GetHealthy() && !s.GetHealth().GetUnknown():
				h.Problems = append(h.Problems, fmt.Sprintf("service %s is unhealthy%s", s.GetId(), lastMessage(s.GetHealth().GetLastMessage())))
			default:
				h.Healthy++
			}
		}
	}
	if n.Role == inventory.RoleControlPlane {
		members, err := c.listMembers(ctx, cl, n)
		if err != nil {
			h.Problems = append(h.Problems, err.Error())
		} else {
			h.EtcdMembers = voting(members)
			h.Problems = append(h.Problems, membershipProblems(members, cps)...)
		}
	}
	return h
}

func lastMessage(m string) string {
	if m == "" {
		return ""
	}
	return ": " + m
}

// WriteTable prints the report, one node per row, then the problems.
func (r *HealthReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tTALOS\tSERVICES\tETCD\tSTATUS")
	for _, n := range r.Nodes {
		state := "healthy"
		if len(n.Problems) > 0 {
			state = fmt.Sprintf("%d problem(s)", len(n.Problems))
		}
		etcd := "-"
		if n.Role == inventory.RoleControlPlane {
			etcd = fmt.Sprintf("%d member(s)", n.EtcdMembers)
		}
		version := n.Version
		if version == "" {
			version = "?"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d healthy\t%s\t%s\n", n.Node, n.Role, version, n.Healthy, n.Services, etcd, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range r.problems() {
		if _, err := fmt.Fprintln(w, "  - "+p); err != nil {
			return err
		}
	}
	return nil
}
