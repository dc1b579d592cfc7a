package kubetest

import "syscall"

// sysProcAttr makes the kernel kill a server's program when the test binary
// that started it dies without calling Stop (a panic, a test timeout), so
// no etcd or kube-apiserver outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
