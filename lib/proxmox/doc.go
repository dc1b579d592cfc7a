// Package proxmox is the project's Proxmox VE 9 client: every target that
// touches Proxmox goes through it. It is built on
// github.com/luthermonson/go-proxmox and guards callers against that
// library's known defects:
//
//   - every non-2xx answer is an *APIError with the HTTP status, PVE's
//     message and its per-parameter errors (go-proxmox ignores 596 and friends);
//   - a task that fails is a *TaskError, and "WARNINGS: n" is success
//     (go-proxmox's Task.Wait gets both wrong), waits honour ctx and report
//     progress (download percentages) through a callback;
//   - UPIDs are parsed without panicking; /cluster/nextid is read as the
//     string PVE sends;
//   - uploads stream a multipart body with the fields in the order pveproxy
//     requires, with a Content-Length;
//   - safe requests are retried with backoff on transient failures
//     (connection reset, 502, 503, 596); a POST is never retried blindly;
//   - every request runs under lib/netx's time limits (dial, TLS handshake,
//     answer, overall; uploads get an idle limit instead of an overall one),
//     and a host that stops answering is a *NetworkError naming the host
//     and the phase, never a silent hang;
//   - API tokens never reach a log line or an error.
//
// Operations are written as "ensure" steps that are safe to re-run: they
// look at what exists first and change only what differs.
//
// The client knows no inventory and no project convention: what a plan
// needs from a host is lib/preflight's, which asks the client for the
// facts (Permissions and their Missing privileges on a path, storages,
// bridges, VMs and their tags) and for what to do about a failed
// connection (Client.ConnectionFix).
package proxmox
