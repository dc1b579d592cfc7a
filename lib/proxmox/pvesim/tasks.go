package pvesim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// task is a PVE worker task.
type task struct {
	upid    pve.UPID
	id      string // the UPID string
	user    string
	running bool
	exit    string
	log     []string
	ended   time.Time
	cancel  context.CancelFunc
	done    chan struct{}
}

// taskLog lets a task's work write log lines and reach its failpoints.
type taskLog struct {
	s     *Server
	t     *task
	fault *taskFault // a failure injected inside the work (failsInside), or nil
}

// failsInside reports whether an injected failure of a task type fires at
// the failpoints of its work rather than before the work: qmtemplate's
// worker writes template=1 before template_create can fail.
func failsInside(typ string) bool { return typ == "qmtemplate" }

// failpoint is a step of task work: it returns the injected failure once
// the work has done the fault's steps, and nil otherwise.
func (l taskLog) failpoint() error {
	if l.fault == nil {
		return nil
	}
	if l.fault.steps == 0 {
		return errors.New(l.fault.msg)
	}
	l.fault.steps--
	return nil
}

// Printf appends a log line.
func (l taskLog) Printf(format string, args ...any) {
	l.s.world.mu.Lock()
	defer l.s.world.mu.Unlock()
	l.printfLocked(format, args...)
}

// printfLocked appends a log line for work that holds the lock.
func (l taskLog) printfLocked(format string, args ...any) {
	l.t.log = append(l.t.log, strings.Split(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n")...)
}

// final is the failure of a fault the work did not reach, or nil.
func (f *taskFault) final() error {
	if f == nil {
		return nil
	}
	return errors.New(f.msg)
}

// warning is returned by task work that succeeded with warnings.
type warning struct{ n int }

func (w warning) Error() string { return fmt.Sprintf("WARNINGS: %d", w.n) }

// taskWork is what a task does. It returns nil, a warning, or the error the
// task stops with.
type taskWork func(ctx context.Context, log taskLog) error

// lockedWork is task work that holds the world's lock from start to end,
// as the tasks that change VMs and volumes do; it logs with printfLocked.
func (w *world) lockedWork(work func(log taskLog) error) taskWork {
	return func(_ context.Context, log taskLog) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		return work(log)
	}
}

// lockedUndo is a task's onError that holds the world's lock while it
// undoes what the handler prepared (startTask calls onError without it).
func (w *world) lockedUndo(undo func()) func() {
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		undo()
	}
}

// startTask starts a worker task and returns its UPID. The caller holds no
// lock. A pending FailNextTask fault for the type makes the task fail with
// the fault's message instead of doing its work (or, for the types that
// failsInside names, at the work's failpoints). onError, when set, runs
// (without the lock) when the task fails, to undo what the handler prepared.
func (s *Server) startTask(user, typ, id string, work taskWork, onError ...func()) string {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	return s.startTaskLocked(user, typ, id, work, onError...)
}

// startTaskLocked is startTask for a caller that holds the lock. The work
// runs after the caller releases it.
func (s *Server) startTaskLocked(user, typ, id string, work taskWork, onError ...func()) string {
	w := s.world
	u := pve.UPID{Node: w.node, PID: w.nextPID(), PStart: uint64(time.Now().UnixNano() / 1e7 & 0xFFFFFFFF),
		StartTime: time.Now().UTC().Truncate(time.Second), Type: typ, ID: id, User: user}
	ctx, cancel := context.WithCancel(context.Background())
	t := &task{upid: u, id: u.String(), user: user, running: true, cancel: cancel, done: make(chan struct{})}
	w.tasks[t.id] = t
	w.order = append(w.order, t.id)

	injected := s.faults.taskFailure(typ)
	log := taskLog{s: s, t: t}
	if injected != nil && failsInside(typ) {
		log.fault, injected = injected, nil
	}
	warnings := s.faults.taskWarnings(typ)
	go func() {
		defer close(t.done)
		defer cancel()
		// The task takes its time first and changes state at the end, so
		// locks set by the handler hold for the whole task, as on PVE.
		err := sleepCtx(ctx, s.taskDuration)
		switch {
		case err != nil:
		case injected != nil:
			err = errors.New(injected.msg)
		default:
			err = work(ctx, log)
			if err == nil {
				// The work did fewer steps than the fault's: it fails at
				// its end.
				err = log.fault.final()
			}
		}
		if err == nil && warnings > 0 {
			err = warning{n: warnings}
		}
		var warn warning
		if err != nil && !errors.As(err, &warn) {
			for _, undo := range onError {
				undo()
			}
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		switch {
		case err == nil:
			t.exit = "OK"
			t.log = append(t.log, "TASK OK")
		case errors.As(err, &warn):
			t.exit = warn.Error()
			t.log = append(t.log, "TASK "+warn.Error())
		default:
			msg := strings.TrimRight(err.Error(), "\n")
			t.exit = msg
			t.log = append(t.log, "TASK ERROR: "+msg)
		}
		t.running = false
		t.ended = time.Now()
	}()
	return t.id
}

// waitTasks waits for every task to stop.
func (s *Server) waitTasks() {
	s.world.mu.Lock()
	var done []chan struct{}
	for _, t := range s.world.tasks {
		done = append(done, t.done)
	}
	s.world.mu.Unlock()
	for _, d := range done {
		<-d
	}
}

// WaitTasks blocks until every task started so far has stopped.
func (s *Server) WaitTasks() { s.waitTasks() }

// findTask looks a task up by the {upid} path variable; PVE answers 400 on
// the upid parameter for a malformed or unknown one.
func (w *world) findTask(r *request) (*task, error) {
	id := r.param("upid")
	if _, err := pve.ParseUPID(id); err != nil {
		return nil, badParam("upid", "unable to parse worker upid '"+id+"'")
	}
	t, ok := w.tasks[id]
	if !ok || t.upid.Node != r.param("node") {
		return nil, badParam("upid", "no such task")
	}
	if t.user != r.who.id && !w.can(r.who, "/nodes/"+t.upid.Node, false, "Sys.Audit") {
		return nil, forbidden("/nodes/"+t.upid.Node, "Sys.Audit")
	}
	return t, nil
}

func taskStatus(_ *Server, w *world, r *request) (any, error) {
	t, err := w.findTask(r)
	if err != nil {
		return nil, err
	}
	u := t.upid
	user, tokenID, isToken := strings.Cut(u.User, "!")
	out := map[string]any{
		"upid": t.id, "node": u.Node, "pid": u.PID, "pstart": u.PStart, "starttime": u.StartTime.Unix(),
		"type": u.Type, "id": u.ID, "user": user, "status": "running",
	}
	if isToken {
		out["tokenid"] = tokenID
	}
	if !t.running {
		out["status"] = "stopped"
		out["exitstatus"] = t.exit
	}
	return out, nil
}

func taskLogLines(_ *Server, w *world, r *request) (any, error) {
	t, err := w.findTask(r)
	if err != nil {
		return nil, err
	}
	start, limit := 0, 50
	if v := r.param("start"); v != "" {
		start, _ = strconv.Atoi(v)
	}
	if v := r.param("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if len(t.log) == 0 {
		// pve-common PVE::Tools::dump_logfile_by_filehandle: an empty
		// log answers one line, whatever start asks.
		return paged{data: []map[string]any{{"n": 1, "t": "no content"}}, total: 1}, nil
	}
	lines := []map[string]any{}
	for i := start; i < len(t.log) && (limit == 0 || i < start+limit); i++ {
		lines = append(lines, map[string]any{"n": i + 1, "t": t.log[i]})
	}
	return paged{data: lines, total: len(t.log)}, nil
}

func stopTask(s *Server, r *request) (any, error) {
	s.world.mu.Lock()
	t, err := s.world.findTask(r)
	if err == nil && t.user != r.who.id && !s.world.can(r.who, "/nodes/"+t.upid.Node, false, "Sys.Modify") {
		err = forbidden("/nodes/"+t.upid.Node, "Sys.Modify")
	}
	s.world.mu.Unlock()
	if err != nil {
		return nil, err
	}
	t.cancel()
	return nil, nil
}

func listTasks(_ *Server, w *world, r *request) (any, error) {
	limit := 50
	if v := r.param("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	out := []map[string]any{}
	for i := len(w.order) - 1; i >= 0 && len(out) < limit; i-- {
		t := w.tasks[w.order[i]]
		if f := r.param("typefilter"); f != "" && t.upid.Type != f {
			continue
		}
		if v := r.param("vmid"); v != "" && t.upid.ID != v {
			continue
		}
		if r.param("source") == "active" && !t.running {
			continue
		}
		if t.user != r.who.id && !w.can(r.who, "/nodes/"+t.upid.Node, false, "Sys.Audit") {
			continue
		}
		e := map[string]any{"upid": t.id, "node": t.upid.Node, "pid": t.upid.PID, "pstart": t.upid.PStart,
			"starttime": t.upid.StartTime.Unix(), "type": t.upid.Type, "id": t.upid.ID, "user": t.user}
		if t.running {
			e["status"] = "RUNNING"
		} else {
			e["status"] = t.exit
			e["endtime"] = t.ended.Unix()
		}
		out = append(out, e)
	}
	return out, nil
}

// sleepCtx sleeps d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errors.New("received interrupt")
	}
}
