package proxmox

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// APIError is an answer other than 2xx. It names the API call, and carries
// the HTTP status, PVE's message and, for 400 answers, PVE's message for
// each offending parameter.
type APIError struct {
	// Method and Path are the API call, e.g. POST /nodes/pve/qemu.
	Method string
	Path   string
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is PVE's message (the reason phrase when the body has none).
	Message string
	// Params maps parameter names to PVE's verification messages.
	Params map[string]string
}

// Error says what call failed, how, and, for parameters, which and why.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, e.Message)
	if len(e.Params) > 0 {
		for i, k := range slices.Sorted(maps.Keys(e.Params)) {
			sep := ": "
			if i > 0 {
				sep = "; "
			}
			fmt.Fprintf(&b, "%s%s: %s", sep, k, e.Params[k])
		}
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(" (" + hint + ")")
	}
	return b.String()
}

// hint says what to do about the common failures.
func (e *APIError) hint() string {
	switch {
	case e.contentNotConfigured():
		return "add the content type to the storage under Datacenter → Storage → Edit → Content, or through the API (EnsureStorageContent)"
	case strings.Contains(e.Message, "not a file based storage"):
		return "downloads and uploads need a directory-like storage (dir, nfs, cifs, cephfs, btrfs)"
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return "check the token ID and secret; the token may have been deleted or expired"
	case http.StatusForbidden:
		return "grant the token this privilege on this path (Datacenter → Permissions)"
	case http.StatusNotImplemented:
		return "this Proxmox version does not offer this call"
	}
	return ""
}

// Param returns PVE's message for one parameter, or "".
func (e *APIError) Param(name string) string { return e.Params[name] }

// IsStatus reports whether err is an APIError with the status.
func IsStatus(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == status
}

// IsContentNotConfigured reports whether err says a storage does not
// allow the content type a call needs (import, iso, images, ...).
func IsContentNotConfigured(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.contentNotConfigured()
}

func (e *APIError) contentNotConfigured() bool {
	return strings.Contains(e.Message, "is not configured for content-type")
}

// IsNotFound reports whether err says the VM, volume or storage asked for
// does not exist. PVE answers those with 500 and a message, not 404.
func IsNotFound(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.StatusCode == http.StatusNotFound ||
		(e.StatusCode == http.StatusInternalServerError && strings.Contains(e.Message, "does not exist"))
}

// TaskError is a PVE task that stopped with an error.
type TaskError struct {
	// UPID identifies the task.
	UPID pve.UPID
	// ExitStatus is PVE's error text for the task.
	ExitStatus string
	// Log is the end of the task log.
	Log []string
}

// Error names the task and its error.
func (e *TaskError) Error() string {
	return fmt.Sprintf("task %s failed: %s", e.UPID.Describe(), e.ExitStatus)
}

// ErrChecksumMismatch is returned (wrapped) when a file on a storage does
// not have the checksum asked for.
var ErrChecksumMismatch = errors.New("checksum mismatch")
