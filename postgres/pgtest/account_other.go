//go:build !unix

package pgtest

import "os/exec"

// account is the user the cluster runs as; elsewhere than Unix, always the
// current one.
type account struct{}

func unprivileged() (*account, error)   { return nil, nil }
func (a *account) own(dir string) error { return nil }
func (a *account) apply(cmd *exec.Cmd)  {}

// alive reports whether process pid exists; unknown here, so yes, and
// stale clusters are left for whoever looks.
func alive(pid int) bool { return true }
