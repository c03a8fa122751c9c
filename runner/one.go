package runner

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
)

// OneOff describes a one-off command run in the foreground: its standard
// streams are the caller's, so an interactive shell or a debugger works.
type OneOff struct {
	Argv   []string
	Dir    string
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// RunOne runs o in ganger's own process group, so the terminal's Ctrl-C
// reaches it directly (ganger's caller ignores SIGINT meanwhile). Signals
// sent on forward are passed on to it. It returns the command's exit code,
// 128+n when it died of signal n. ctx ending sends SIGTERM.
func RunOne(ctx context.Context, o OneOff, forward <-chan syscall.Signal) (int, error) {
	if len(o.Argv) == 0 {
		return 1, errors.New("run: empty command")
	}
	cmd := exec.Command(o.Argv[0], o.Argv[1:]...)
	cmd.Dir = o.Dir
	cmd.Env = o.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	attr := procAttr()
	attr.Setpgid = false // stay in the terminal's foreground group
	cmd.SysProcAttr = attr
	sp := newSpawner()
	defer sp.close()
	var err error
	sp.do(func() { err = cmd.Start() })
	if err != nil {
		return exitCodeForStartError(err), err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	ctxDone := ctx.Done()
	for {
		select {
		case <-done:
			var ws syscall.WaitStatus
			ok := false
			if st := cmd.ProcessState; st != nil {
				ws, ok = st.Sys().(syscall.WaitStatus)
			}
			code, _ := exitStatus(ws, ok)
			return code, nil
		case sig := <-forward:
			cmd.Process.Signal(sig)
		case <-ctxDone:
			ctxDone = nil
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
}
