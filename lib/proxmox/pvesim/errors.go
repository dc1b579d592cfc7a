package pvesim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// apiError is an answer other than 200: PVE's status, message and, for 400,
// the per-parameter errors.
type apiError struct {
	status int
	msg    string
	errors map[string]string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

// badParams is a 400 "Parameter verification failed." naming parameters.
func badParams(errs map[string]string) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: pve.ParameterVerificationFailed, errors: errs}
}

// badParam is a 400 for one parameter; msg gets PVE's trailing newline.
func badParam(param, msg string) *apiError {
	return badParams(map[string]string{param: msg + "\n"})
}

// failed is a 500: a handler died with msg.
func failed(format string, args ...any) *apiError {
	return &apiError{status: http.StatusInternalServerError, msg: fmt.Sprintf(format, args...)}
}

// forbidden is a 403 naming the path and privileges that were missing.
func forbidden(path string, privs ...string) *apiError {
	return &apiError{status: http.StatusForbidden, msg: fmt.Sprintf("Permission check failed (%s, %s)", path, strings.Join(privs, "|"))}
}

// notImplemented is PVE's 501 for a route it does not know.
func notImplemented(method, path string) *apiError {
	return &apiError{status: http.StatusNotImplemented, msg: fmt.Sprintf("Method '%s %s' not implemented", method, path)}
}

// writeData writes a successful answer.
func writeData(w http.ResponseWriter, data any, total *int) {
	raw, err := json.Marshal(data)
	if err != nil {
		writeError(w, failed("encode answer: %v", err))
		return
	}
	body, _ := json.Marshal(pve.Envelope{Data: raw, Total: total})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "max-age=0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeError writes an error answer the way pveproxy does: the message is
// the HTTP reason phrase, and the body repeats it with a null data and the
// parameter errors. net/http cannot set a reason phrase, so the response is
// written on the hijacked connection, which is then closed.
func writeError(w http.ResponseWriter, e *apiError) {
	msg := strings.TrimRight(e.msg, "\n")
	body, _ := json.Marshal(map[string]any{"data": nil, "message": msg + "\n", "errors": e.errors})
	if e.errors == nil {
		body, _ = json.Marshal(map[string]any{"data": nil, "message": msg + "\n"})
	}
	reason := strings.ReplaceAll(msg, "\n", " ")
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(e.status)
		_, _ = w.Write(body)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	bw := bufio.NewWriter(conn)
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", e.status, reason)
	fmt.Fprintf(bw, "Content-Type: application/json;charset=UTF-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	_, _ = bw.Write(body)
	_ = bw.Flush()
}
