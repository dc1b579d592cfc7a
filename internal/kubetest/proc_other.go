//go:build !linux

package kubetest

import "syscall"

// sysProcAttr has nothing to add outside Linux: Stop ends the programs.
func sysProcAttr() *syscall.SysProcAttr { return nil }
