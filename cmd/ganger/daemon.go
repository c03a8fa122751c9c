package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/journal"
)

// daemonEnv marks the ganger that "ganger start -D" starts detached: its
// value is "pipes", or "pipes:COLSxROWS" when its processes get a terminal
// (the caller's --tty choice, which the detached ganger cannot make: its
// stdout is a file). That ganger takes it out of its environment first
// thing, as the keeper's variable; nothing it starts sees it.
const daemonEnv = "_GANGER_DAEMON"

// The detached ganger's descriptors beyond stdio: what it says until the
// formation is up (copied to the caller's stderr), and one byte once it is.
const (
	daemonTextFD  = 3
	daemonReadyFD = 4
)

// upTimeout is how long the caller of a detached start waits for it to be
// up: the platform's boot timeout.
const upTimeout = 60 * time.Second

// logName is the detached start's output, in the app's .ganger.
const logName = "start.log"

// Size and rotation of the detached start's log.
const (
	logMax  = journal.DefaultMaxLog
	logKeep = journal.DefaultKeepLog
)

// detached is what a detached ganger knows of how it was started.
type detached struct {
	text  *os.File // to the caller, until up
	ready *os.File
	tty   *app.TTY
}

// takeDaemonEnv reads and removes daemonEnv; nil when this ganger is not
// the detached one.
func takeDaemonEnv() *detached {
	v, ok := os.LookupEnv(daemonEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(daemonEnv)
	// Inherited without close-on-exec: the processes must not get them, or
	// the caller would wait for their end.
	syscall.CloseOnExec(daemonTextFD)
	syscall.CloseOnExec(daemonReadyFD)
	d := &detached{text: os.NewFile(daemonTextFD, "daemon-text"), ready: os.NewFile(daemonReadyFD, "daemon-ready")}
	if size, ok := strings.CutPrefix(v, "pipes:"); ok {
		d.tty = &app.TTY{Input: true} // for ganger attach
		if c, r, ok := strings.Cut(size, "x"); ok {
			d.tty.Cols, _ = strconv.Atoi(c)
			d.tty.Rows, _ = strconv.Atoi(r)
		}
	}
	return d
}

// detach is "ganger start -D" in the caller: it starts ganger again, in a
// session of its own with its output in ROOT/.ganger/start.log, shows what
// it says until its formation is up, and returns then. When it fails
// before, or is stopped by a SIGINT or SIGTERM passed on to it meanwhile,
// its message has been shown and its exit code is returned.
func detach(st *streams, a *app.App, tty *app.TTY) error {
	gdir, err := control.AppDir(a.Root)
	if err != nil {
		return err
	}
	logPath := filepath.Join(gdir, logName)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("open the detached start's log: %w", err)
	}
	defer logf.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	textR, textW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer textR.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		textW.Close()
		return err
	}
	defer readyR.Close()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find ganger's own binary to start it detached: %w", err)
	}
	mode := "pipes"
	if tty != nil {
		mode = fmt.Sprintf("pipes:%dx%d", tty.Cols, tty.Rows)
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        os.Args, // as given, so that it is the same command
		Env:         append(append([]string(nil), st.environ...), daemonEnv+"="+mode),
		Dir:         mustGetwd(),
		Stdin:       null,
		Stdout:      logf, // what the detached ganger writes past its own log (a crash)
		Stderr:      logf,
		ExtraFiles:  []*os.File{textW, readyW},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}, // the terminal's hangup is not for it
	}
	err = cmd.Start()
	textW.Close()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("start ganger detached: %w", err)
	}
	// Until it is up, Ctrl-C (or SIGTERM) is for it, as for a foreground
	// start: passed on, it stops, and its code is the caller's.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var interrupted atomic.Bool
	forwarded := make(chan struct{})
	defer close(forwarded)
	go func() {
		for {
			select {
			case s := <-sigs:
				interrupted.Store(true)
				cmd.Process.Signal(s)
			case <-forwarded:
				return
			}
		}
	}()
	var copied sync.WaitGroup
	copied.Go(func() { io.Copy(st.err, textR) })
	ready := make(chan bool, 1)
	go func() {
		var b [1]byte
		n, _ := readyR.Read(b[:])
		ready <- n == 1
	}()
	var up bool
	select {
	case up = <-ready:
	case <-time.After(upTimeout):
		// Still booting: it goes on in the background, but the caller
		// (a script: ganger start -D && ...) is told it is not up.
		textR.Close()
		fmt.Fprintf(st.err, "ganger: not up after %s: the start goes on in the background (pid %d); see ganger logs -f, end it with ganger quit\n", upTimeout, cmd.Process.Pid)
		cmd.Process.Release()
		return &app.ExitError{Code: 1}
	}
	if up && !interrupted.Load() {
		copied.Wait()
		fmt.Fprintf(st.err, "ganger: running in the background (pid %d), output in %s\n", cmd.Process.Pid, app.RelPath(logPath))
		fmt.Fprintf(st.err, "ganger: see it with \"ganger ps\" and \"ganger logs -f\", step into a process with \"ganger attach NAME\", end it with \"ganger quit\"\n")
		cmd.Process.Release()
		return nil
	}
	werr := cmd.Wait()
	copied.Wait()
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		return &app.ExitError{Code: exitCodeOf(ee.ProcessState)}
	}
	if werr != nil {
		return fmt.Errorf("the detached start: %w", werr)
	}
	return &app.ExitError{Code: 1, Err: errors.New("the detached start ended before its processes were up")}
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return wd
}

// detachedOut is the detached ganger's output: its log, and the caller's
// terminal until the formation is up.
type detachedOut struct {
	mu    sync.Mutex
	log   *journal.RotatingFile
	early io.Writer // nil once up
}

func (w *detachedOut) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.early != nil {
		w.early.Write(p) // the caller may have gone: the log is what counts
	}
	return w.log.Write(p)
}

// up stops the copies to the caller and tells it that the formation is up.
func (d *detached) up(w *detachedOut) {
	w.mu.Lock()
	w.early = nil
	w.mu.Unlock()
	d.text.Close()
	d.ready.Write([]byte{1})
	d.ready.Close()
}

// setUp makes so a detached start: output to the log (and to the caller
// until up), the caller's terminal choice, and the signal that it is up.
func (d *detached) setUp(st *streams, a *app.App, so *app.StartOptions) (io.Closer, error) {
	gdir, err := control.AppDir(a.Root)
	if err != nil {
		return nil, err
	}
	so.LogPath = filepath.Join(gdir, logName)
	rf, err := journal.OpenRotating(so.LogPath, logMax, logKeep)
	if err != nil {
		return nil, err
	}
	w := &detachedOut{log: rf, early: d.text}
	st.out, st.err = w, w
	so.Output.Out, so.Output.Color = w, false
	so.Warn = w
	so.TTY = d.tty
	so.Up = func() { d.up(w) }
	return rf, nil
}
