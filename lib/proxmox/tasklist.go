package proxmox

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// TaskInfo is one entry of a node's task list.
type TaskInfo struct {
	// UPID is the task's ID; Type its kind ("qmstart", "qmshutdown", ...)
	// and ID what it is about (a VM ID for the qm tasks).
	UPID, Type, ID string
	// User started it.
	User string
	// Status is "RUNNING" while it runs, then its exit status: "OK", a
	// "WARNINGS: n" line, or the error it died with.
	Status string
	// Start and End are when it started and ended (End zero while it runs).
	Start, End time.Time
}

// OK reports a task that ended without an error (warnings allowed).
func (t TaskInfo) OK() bool {
	return exitOK(t.Status)
}

// VMTasks lists the recent tasks of a node about one VM, newest first
// (GET /nodes/{node}/tasks with vmid; PVE keeps the last ones of each
// node, limit caps how many are read, 0 for PVE's default of 50).
func (c *Client) VMTasks(ctx context.Context, node string, vmid, limit int) ([]TaskInfo, error) {
	q := url.Values{"vmid": {strconv.Itoa(vmid)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var raw []struct {
		UPID      string `json:"upid"`
		Type      string `json:"type"`
		ID        string `json:"id"`
		User      string `json:"user"`
		Status    string `json:"status"`
		StartTime int64  `json:"starttime"`
		EndTime   int64  `json:"endtime"`
	}
	if err := c.get(ctx, "/nodes/"+url.PathEscape(node)+"/tasks", q, &raw); err != nil {
		return nil, err
	}
	out := make([]TaskInfo, len(raw))
	for i, r := range raw {
		out[i] = TaskInfo{UPID: r.UPID, Type: r.Type, ID: r.ID, User: r.User, Status: r.Status, Start: time.Unix(r.StartTime, 0)}
		if r.EndTime > 0 {
			out[i].End = time.Unix(r.EndTime, 0)
		}
		if r.Status == "" && r.EndTime == 0 {
			out[i].Status = "RUNNING"
		}
	}
	return out, nil
}
