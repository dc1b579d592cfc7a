package preflight

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// Status is the outcome of one check.
type Status int

// Check outcomes.
const (
	Pass Status = iota
	Warn
	Fail
)

// String renders the status for the report.
func (s Status) String() string {
	return [...]string{"ok", "WARN", "FAIL"}[s]
}

// Check is one preflight check.
type Check struct {
	// Name says what was checked.
	Name string
	// Status is the outcome.
	Status Status
	// Detail says what was found.
	Detail string
	// Fix says what to do when the check did not pass.
	Fix string
	// Field is the inventory field the check is about, e.g.
	// proxmox.storage.disks, when it is about one.
	Field string
}

// Event tells that a step of Run starts or ends.
type Event struct {
	// Step says what is checked, e.g. "TLS, API token and PVE version".
	Step string
	// Host is the API's host:port.
	Host string
	// Done is false when the step starts, true when it ends.
	Done bool
	// Checks are the step's outcomes, when Done.
	Checks []Check
}

// Report is every check of a run.
type Report struct {
	Checks []Check
}

// OK reports whether no check failed (warnings are allowed).
func (r Report) OK() bool {
	return !slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == Fail })
}

// Failed returns the checks that failed.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

// WriteTable writes the checks as one table, then the fix for each check
// that did not pass.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tDETAIL")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Status, c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range r.Checks {
		if c.Status != Pass && c.Fix != "" {
			fmt.Fprintf(w, "\n%s %s\n  fix: %s\n", c.Status, c.Name, c.Fix)
		}
	}
	return nil
}
