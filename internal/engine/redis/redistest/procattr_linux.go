package redistest

import "syscall"

// dieWithParent makes the kernel kill the server when the test binary dies,
// so a crashed or interrupted test run leaves no redis-server behind.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
