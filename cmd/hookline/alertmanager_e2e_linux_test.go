//go:build linux

package main

import "syscall"

func init() {
	// A test binary killed by -timeout runs no cleanup; the kernel then
	// ends the Alertmanager it started.
	alertmanagerProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
