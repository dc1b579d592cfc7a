package proxmox

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// TaskEvent is what a task wait reports: each new log line, with the
// percentage when the line carries one (download and import logs do).
type TaskEvent struct {
	// UPID is the task.
	UPID pve.UPID
	// Line is a new line of the task log.
	Line string
	// Percent is the progress the line reports, or -1.
	Percent float64
}

// Progress receives task events. It may be nil.
type Progress func(TaskEvent)

// TaskResult is a task that succeeded.
type TaskResult struct {
	// UPID is the task.
	UPID pve.UPID
	// ExitStatus is "OK" or "WARNINGS: n".
	ExitStatus string
	// Warnings is n of "WARNINGS: n".
	Warnings int
	// Log is the whole task log.
	Log []string
}

var percentRe = regexp.MustCompile(`(\d{1,3}(?:\.\d+)?)%`)

// linePercent finds the progress a log line reports: wget's "... 42% 10M 3s"
// and qemu-img's "transferred 1.0 GiB of 2.0 GiB (50.00%)".
func linePercent(line string) float64 {
	m := percentRe.FindAllStringSubmatch(line, -1)
	if m == nil {
		return -1
	}
	p, err := strconv.ParseFloat(m[len(m)-1][1], 64)
	if err != nil || p > 100 {
		return -1
	}
	return p
}

// WaitTask polls a task until it stops, sending every new log line to
// progress. A task that stops with "OK" or "WARNINGS: n" succeeds; any other
// exit status is a *TaskError. Cancelling ctx stops the wait (not the task).
func (c *Client) WaitTask(ctx context.Context, upid string, progress Progress) (*TaskResult, error) {
	u, err := pve.ParseUPID(upid)
	if err != nil {
		return nil, fmt.Errorf("wait for task: %w", err)
	}
	base := "/nodes/" + url.PathEscape(u.Node) + "/tasks/" + url.PathEscape(upid)
	var log []string
	for {
		var st struct {
			Status     string `json:"status"`
			ExitStatus string `json:"exitstatus"`
		}
		if err := c.get(ctx, base+"/status", nil, &st); err != nil {
			return nil, waitError(ctx, u, err)
		}
		// Read the log after the status, so a stopped task's log is complete.
		var lines []logLine
		if err := c.get(ctx, base+"/log", url.Values{"start": {strconv.Itoa(len(log))}, "limit": {"0"}}, &lines); err != nil {
			return nil, waitError(ctx, u, err)
		}
		if emptyLog(lines) {
			lines = nil
		}
		for _, l := range lines {
			log = append(log, l.T)
			if progress != nil {
				progress(TaskEvent{UPID: u, Line: l.T, Percent: linePercent(l.T)})
			}
		}
		if st.Status == "stopped" {
			return taskOutcome(u, st.ExitStatus, log)
		}
		select {
		case <-ctx.Done():
			return nil, waitError(ctx, u, ctx.Err())
		case <-time.After(c.poll):
		}
	}
}

// logLine is a line of a task log as PVE numbers it (from 1).
type logLine struct {
	N int    `json:"n"`
	T string `json:"t"`
}

// emptyLog reports whether a log answer is PVE's placeholder for a task
// that has logged nothing yet: pve-common's dump_logfile answers an empty
// log file with the single line {n:1, t:"no content"}. It is no log line;
// a stopped task always has its "TASK ..." line, so a real log is never
// only that.
func emptyLog(lines []logLine) bool {
	return len(lines) == 1 && lines[0].N == 1 && lines[0].T == "no content"
}

// waitError explains why a wait ended early. A cancelled wait does not stop
// the task, and says so.
func waitError(ctx context.Context, u pve.UPID, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("wait for task %s (it keeps running on the host): %w", u.Describe(), ctx.Err())
	}
	return fmt.Errorf("wait for task %s: %w", u.Describe(), err)
}

// warningsPrefix starts the exit status of a task that succeeded with
// warnings: "WARNINGS: n".
const warningsPrefix = "WARNINGS: "

// exitOK reports an exit status of success: "OK" or "WARNINGS: n".
func exitOK(exit string) bool { return exit == "OK" || strings.HasPrefix(exit, warningsPrefix) }

func taskOutcome(u pve.UPID, exit string, log []string) (*TaskResult, error) {
	if exitOK(exit) {
		w, _ := strconv.Atoi(strings.TrimPrefix(exit, warningsPrefix))
		return &TaskResult{UPID: u, ExitStatus: exit, Warnings: w, Log: log}, nil
	}
	tail := log
	if len(tail) > 20 {
		tail = tail[len(tail)-20:]
	}
	return nil, &TaskError{UPID: u, ExitStatus: exit, Log: tail}
}

// StopTask asks PVE to stop a running task.
func (c *Client) StopTask(ctx context.Context, upid string) error {
	u, err := pve.ParseUPID(upid)
	if err != nil {
		return fmt.Errorf("stop task: %w", err)
	}
	return c.req(ctx, "DELETE", "/nodes/"+url.PathEscape(u.Node)+"/tasks/"+url.PathEscape(upid), nil, nil)
}

// runTask starts an asynchronous call that answers a UPID and waits for it.
func (c *Client) runTask(ctx context.Context, method, path string, params Params, progress Progress) (*TaskResult, error) {
	var upid string
	if err := c.req(ctx, method, path, params, &upid); err != nil {
		return nil, err
	}
	return c.WaitTask(ctx, upid, progress)
}
