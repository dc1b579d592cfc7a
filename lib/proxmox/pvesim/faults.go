package pvesim

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// faults holds the failures tests asked for. Each fires once.
type faults struct {
	mu        sync.Mutex
	requests  []*requestFault
	tasks     map[string][]taskFault
	warnings  map[string][]int
	bandwidth int64
}

// requestFault fails the next request matching a method and path prefix.
type requestFault struct {
	method, prefix string
	status         int
	msg            string
	reset          bool
	afterBytes     int64
	stall          time.Duration
}

func newFaults(bandwidth int64) *faults {
	return &faults{tasks: map[string][]taskFault{}, warnings: map[string][]int{}, bandwidth: bandwidth}
}

// taskFault is an injected task failure: msg, after the task did steps
// steps of its work (see failsInside).
type taskFault struct {
	msg   string
	steps int
}

// FailNextTask makes the next task of type typ (qmcreate, download, ...) fail
// with msg instead of doing its work. A qmtemplate task fails where
// qemu-server's template_create would: after it wrote template=1, before
// it renamed any disk.
func (s *Server) FailNextTask(typ, msg string) { s.FailNextTaskAfter(typ, 0, msg) }

// FailNextTaskAfter makes the next task of type typ fail with msg after
// steps steps of its work: for qmtemplate, a step is one disk renamed to
// its base volume. Other task types have no steps: they fail as with
// FailNextTask.
func (s *Server) FailNextTaskAfter(typ string, steps int, msg string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.tasks[typ] = append(s.faults.tasks[typ], taskFault{msg: msg, steps: steps})
}

// WarnNextTask makes the next task of type typ do its work and then stop
// with "WARNINGS: n", which PVE counts as success.
func (s *Server) WarnNextTask(typ string, n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.warnings[typ] = append(s.faults.warnings[typ], n)
}

// FailNextRequest answers the next request with method whose API path starts
// with prefix with the HTTP status and message, before it reaches a handler.
func (s *Server) FailNextRequest(method, prefix string, status int, msg string) {
	s.addRequestFault(&requestFault{method: method, prefix: prefix, status: status, msg: msg})
}

// ResetNextRequest closes the connection of the next matching request
// without an answer, after reading afterBytes of its body (0: at once).
func (s *Server) ResetNextRequest(method, prefix string, afterBytes int64) {
	s.addRequestFault(&requestFault{method: method, prefix: prefix, reset: true, afterBytes: afterBytes})
}

// StallNextRequest holds the next matching request for d before answering
// it normally. A client that gives up first gets no answer: the request is
// dropped with its connection, as a server drops a client that went away.
func (s *Server) StallNextRequest(method, prefix string, d time.Duration) {
	s.addRequestFault(&requestFault{method: method, prefix: prefix, stall: d})
}

// HoldLock sets a lock ("backup", "migrate", ...) on a VM, as a running
// operation would, until ReleaseLock.
func (s *Server) HoldLock(vmid int, lock string) bool {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	v, ok := s.world.vms[vmid]
	if ok {
		v.lock = lock
	}
	return ok
}

// ReleaseLock clears a VM's lock.
func (s *Server) ReleaseLock(vmid int) {
	s.HoldLock(vmid, "")
}

// SetDownloadBandwidth limits download-url transfers to bytesPerSecond (0: unlimited).
func (s *Server) SetDownloadBandwidth(bytesPerSecond int64) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.bandwidth = bytesPerSecond
}

func (s *Server) addRequestFault(f *requestFault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.requests = append(s.faults.requests, f)
}

// take removes and returns the first fault matching a request.
func (f *faults) take(method, path string) *requestFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, rf := range f.requests {
		if rf.method == method && strings.HasPrefix(path, rf.prefix) {
			f.requests = append(f.requests[:i], f.requests[i+1:]...)
			return rf
		}
	}
	return nil
}

func (f *faults) taskFailure(typ string) *taskFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	queued := f.tasks[typ]
	if len(queued) == 0 {
		return nil
	}
	f.tasks[typ] = queued[1:]
	return &queued[0]
}

func (f *faults) taskWarnings(typ string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ns := f.warnings[typ]
	if len(ns) == 0 {
		return 0
	}
	f.warnings[typ] = ns[1:]
	return ns[0]
}

func (f *faults) rate() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bandwidth
}

// applyFault acts on a fault; done says the request is answered.
func (s *Server) applyFault(r *http.Request, f *requestFault) (outcome, bool) {
	switch {
	case f.stall > 0:
		select {
		case <-time.After(f.stall):
			return outcome{}, false
		case <-r.Context().Done():
			// Answering now would race the client's own cancellation:
			// a response that lands before its connection closes would
			// turn the give-up into a success.
			return outcome{reset: true}, true
		}
	case f.reset:
		if f.afterBytes > 0 {
			_, _ = io.CopyN(io.Discard, r.Body, f.afterBytes)
		}
		return outcome{reset: true}, true
	default:
		return failure(&apiError{status: f.status, msg: f.msg}), true
	}
}

// throttled copies src to dst at no more than the current download
// bandwidth, calling progress after every chunk.
func (s *Server) throttled(ctx context.Context, dst io.Writer, src io.Reader, progress func(int64)) (int64, error) {
	br := bufio.NewReaderSize(src, 64<<10)
	buf := make([]byte, 64<<10)
	var n int64
	start := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := br.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
			progress(n)
			if rate := s.faults.rate(); rate > 0 {
				if ahead := time.Duration(float64(n)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
					if err := sleepCtx(ctx, ahead); err != nil {
						return n, err
					}
				}
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
