//go:build !unix

package pgtest

import "syscall"

// sysProcAttr does nothing: running as another user needs a Unix system.
func sysProcAttr(*credential) *syscall.SysProcAttr { return nil }
