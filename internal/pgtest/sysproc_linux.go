package pgtest

import "syscall"

// sysProcAttr runs a program as cred (when not nil), and has the kernel
// send it SIGQUIT (an immediate shutdown, for the server) when this process
// dies, so that a test binary killed by go test's -timeout leaves no server
// behind.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	if cred != nil {
		a.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid}
	}
	return a
}
