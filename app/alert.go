package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/journal"
	"github.com/gangerdev/ganger/runner/logmux"
)

// Alerts are what start was asked to do when a process crashes, on the
// command line; ganger.yml's on_crash and notify fill in what is not set
// here.
type Alerts struct {
	OnCrash string // a shell command; "" means ganger.yml's on_crash
	Notify  *bool  // desktop notifications; nil means ganger.yml's notify
}

// The names alerts' output goes under.
const (
	onCrashName = "on_crash" // the hook's output
	notifyName  = "notify"   // notify-send's or osascript's
)

const (
	// alertGrace is how long a hook still running when the formation has
	// ended is waited for before its process group is killed.
	alertGrace = 2 * time.Second
	// alertQueue is how many crashes may wait for the alert goroutine;
	// more are dropped and counted.
	alertQueue = 32
	// crashLogLines is how many of a process's last lines GANGER_LOG holds.
	crashLogLines = 200
)

// installAlerts wraps sink in an alerter when the command line (o) or
// ganger.yml (cf) asks for alerts, the flag winning; otherwise it returns
// sink and nil. The alerter's Close must be called once the formation has
// stopped.
//
// GANGER_LOG's lines come from a journal of the formation's recent output
// kept for the alerts alone.
// The last lines come from j, which sink records into.
func (a *App) installAlerts(sink runner.Sink, j *journal.Journal, cf *config.File, specs []runner.Spec, o Alerts, warn io.Writer) (runner.Sink, *alerter) {
	onCrash, notify := o.OnCrash, cf.Notify
	if onCrash == "" {
		onCrash = cf.OnCrash
	}
	if o.Notify != nil {
		notify = *o.Notify
	}
	if onCrash == "" && !notify {
		return sink, nil
	}
	al := newAlerter(sink, alertOptions{
		root: a.Root, environ: a.Env.Environ(), onCrash: onCrash, notify: notify, warn: warn,
		writeLog: func(name string, w io.Writer) error { return j.WriteTail(name, crashLogLines, w) },
	})
	al.setSpecs(specs)
	return al, al
}

// alertOptions configure an alerter.
type alertOptions struct {
	root    string   // the app root: the hook's working directory
	environ []string // the app's environment: ganger's own overlaid by the env files
	onCrash string   // "" for none
	notify  bool
	// writeLog writes the last lines of a process, for GANGER_LOG.
	writeLog func(name string, w io.Writer) error
	warn     io.Writer // for the one-time warning that notify has no tool
	grace    time.Duration
}

// alerter is a runner.Sink that passes everything on and, on a crash (an
// exit ganger did not ask for, but a oneshot's exit 0) or when restarts
// give up, runs the on_crash hook and sends a desktop notification. The
// supervisor never waits for either: crashes are handed to one goroutine
// over a buffered channel, and dropped (then counted and reported) when it
// is full. Messages go to the wrapped Sink, which must be safe for
// concurrent use (a logmux.Mux, a journal's Tee).
type alerter struct {
	runner.Sink
	o        alertOptions
	notifier []string // the notification tool's path and the first arguments; nil: none

	mu      sync.Mutex // guards oneshot
	oneshot map[string]bool

	spareMu  sync.Mutex   // guards starting and children
	starting int          // hooks being started, their pid not known yet
	children map[int]bool // hooks started and not reaped yet

	queue   chan runner.Event
	dropped atomic.Int64
	ctx     context.Context // ends alertGrace after Close: hooks are killed
	cancel  context.CancelFunc
	done    chan struct{}
}

// newAlerter wraps sink and starts the alert goroutine; Close ends it.
func newAlerter(sink runner.Sink, o alertOptions) *alerter {
	if o.grace == 0 {
		o.grace = alertGrace
	}
	al := &alerter{Sink: sink, o: o, oneshot: map[string]bool{}, children: map[int]bool{}, queue: make(chan runner.Event, alertQueue), done: make(chan struct{})}
	al.ctx, al.cancel = context.WithCancel(context.Background())
	if o.notify {
		al.notifier = findNotifier(envValue(o.environ, "PATH"))
		if al.notifier == nil && o.warn != nil {
			fmt.Fprintln(o.warn, "ganger: warning: --notify: neither notify-send nor osascript is on PATH; no desktop notifications")
		}
	}
	go al.run()
	return al
}

// spare is the supervisor's runner.Options.Spare: the alerts' own children
// are not its to reap (their exit code would be lost), nor to stop with the
// formation. While one is being started its pid is not known yet, and every
// child is spared: the supervisor deals with the others at its next pass.
func (al *alerter) spare(pid int) bool {
	al.spareMu.Lock()
	defer al.spareMu.Unlock()
	return al.starting > 0 || al.children[pid]
}

// setSpecs tells which processes are oneshots, whose exit 0 is no crash.
func (al *alerter) setSpecs(specs []runner.Spec) {
	al.mu.Lock()
	defer al.mu.Unlock()
	clear(al.oneshot)
	for _, s := range specs {
		if s.Oneshot {
			al.oneshot[s.Name] = true
		}
	}
}

// Event passes e on, then hands a crash to the alert goroutine.
func (al *alerter) Event(e runner.Event) error {
	err := al.Sink.Event(e)
	if al.isCrash(e) {
		select {
		case al.queue <- e:
		default:
			al.dropped.Add(1)
		}
	}
	return err
}

// isCrash reports whether e calls for an alert.
func (al *alerter) isCrash(e runner.Event) bool {
	switch {
	case e.Kind == runner.System:
		return e.GaveUp != ""
	case e.Kind != runner.Exited || e.Asked:
		return false
	case e.Code == 0 && e.Signal == 0:
		al.mu.Lock()
		defer al.mu.Unlock()
		return !al.oneshot[e.Name]
	}
	return true
}

// Close is called once the formation has stopped (no more events): the
// alerts queued still run, and whatever still runs alertGrace later is
// killed. It returns once the alert goroutine has.
func (al *alerter) Close() {
	close(al.queue)
	t := time.AfterFunc(al.o.grace, al.cancel)
	<-al.done
	t.Stop()
	al.cancel()
}

// run is the alert goroutine.
func (al *alerter) run() {
	defer close(al.done)
	codes := map[string]int{} // the last exit code of each process alerted on
	reported := int64(0)
	for e := range al.queue {
		name, code := e.Name, e.Code
		if e.Kind == runner.System {
			name, code = e.GaveUp, codes[e.GaveUp]
		} else {
			codes[name] = code
		}
		if al.ctx.Err() != nil {
			al.system("no alert for %s: ganger has stopped", name)
			continue
		}
		al.alert(e, name, code)
		if n := al.dropped.Load(); n > reported {
			al.system("%d crash alerts dropped: too many crashes at once", n-reported)
			reported = n
		}
	}
	if n := al.dropped.Load(); n > reported {
		al.system("%d crash alerts dropped: too many crashes at once", n-reported)
	}
}

// system reports a line of ganger's own.
func (al *alerter) system(format string, args ...any) {
	al.Sink.Event(runner.Event{Kind: runner.System, Time: time.Now(), Msg: fmt.Sprintf(format, args...)})
}

// alert runs the hook and sends the notification for one crash of name.
func (al *alerter) alert(e runner.Event, name string, code int) {
	what, how := name+" crashed", logmux.DescribeExit(e.Code, e.Signal != 0, runner.SignalName(e.Signal))
	if e.Signal != 0 {
		how += fmt.Sprintf(" (exit code %d)", e.Code)
	}
	kind := "exited"
	if e.Kind == runner.System {
		kind = "gave-up"
		what, how = "gave up on "+name, strings.TrimPrefix(e.Msg, "giving up on "+name+": ")
	}
	if al.o.onCrash != "" {
		env := append(al.o.environ[:len(al.o.environ):len(al.o.environ)],
			"GANGER_PROCESS="+name, "GANGER_EXIT_CODE="+strconv.Itoa(code), "GANGER_EVENT="+kind)
		logPath, err := al.crashLog(name)
		if err != nil {
			al.system("on_crash for %s: %v", name, err)
		}
		env = append(env, "GANGER_LOG="+logPath)
		if err := al.exec([]string{"/bin/sh", "-c", al.o.onCrash}, env, onCrashName); err != nil {
			al.system("on_crash for %s failed: %v", name, err)
		}
	}
	if al.notifier != nil {
		title, body := "ganger: "+what, fmt.Sprintf("%s (%s)", how, al.o.root)
		argv := append(al.notifier[:len(al.notifier):len(al.notifier)], title, body)
		if filepath.Base(al.notifier[0]) == "osascript" {
			argv = append(al.notifier[:len(al.notifier):len(al.notifier)],
				"-e", fmt.Sprintf("display notification %s with title %s", appleString(body), appleString(title)))
		}
		if err := al.exec(argv, al.o.environ, notifyName); err != nil {
			al.system("notify for %s failed: %v", name, err)
		}
	}
}

// crashLog writes name's last lines to ROOT/.ganger/crash/NAME.log and
// returns its path.
func (al *alerter) crashLog(name string) (string, error) {
	if al.o.writeLog == nil {
		return "", nil
	}
	// .ganger is checked as everywhere: never a symlink, never another
	// user's.
	gdir, err := control.AppDir(al.o.root)
	if err != nil {
		return "", fmt.Errorf("cannot write its log: %w", err)
	}
	dir := filepath.Join(gdir, "crash")
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("cannot write its log: %w", err)
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("cannot write its log: %s is not a directory", dir)
	}
	path := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return "", fmt.Errorf("cannot write its log: %w", err)
	}
	err = al.o.writeLog(name, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("cannot write its log %s: %w", path, err)
	}
	return path, nil
}

// exec runs argv in the app root, in its own process group, with its
// output under name, until it has exited and its output has closed: a
// hook that leaves a child running with its output open holds up the next
// alert until that child ends (redirect such a child's output). After
// Close's grace period its group is killed.
func (al *alerter) exec(argv, env []string, name string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = al.o.root, env
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	al.spareMu.Lock()
	al.starting++
	al.spareMu.Unlock()
	err = cmd.Start()
	al.spareMu.Lock()
	al.starting--
	if err == nil {
		al.children[cmd.Process.Pid] = true
	}
	al.spareMu.Unlock()
	w.Close()
	if err != nil {
		r.Close()
		return err
	}
	pgid := cmd.Process.Pid
	defer func() {
		al.spareMu.Lock()
		delete(al.children, pgid)
		al.spareMu.Unlock()
	}()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		copyLines(r, al.Sink.Lines(name))
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	killed := false
	kill := func() {
		if !killed {
			killed = true
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}
	select {
	case err = <-waited:
	case <-al.ctx.Done():
		kill()
		err = <-waited
	}
	// What the hook started in its group may still hold the output.
	select {
	case <-copied:
	case <-al.ctx.Done():
		kill()
		r.Close() // a process that left the group may hold it still
		<-copied
	}
	r.Close()
	if killed {
		return fmt.Errorf("killed: still running %s after ganger stopped", al.o.grace)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return fmt.Errorf("terminated by %s", runner.SignalName(st.Signal()))
		}
		return fmt.Errorf("exit %d", ee.ExitCode())
	}
	return err
}

// copyLines hands what r gives to w as whole lines, a last partial line
// and overlong ones ended with '\n', until r ends.
func copyLines(r io.Reader, w runner.LineWriter) {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			buf = append(buf[:0], line...)
			if buf[len(buf)-1] != '\n' {
				buf = append(buf, '\n')
			}
			if w.WriteLines(buf) != nil {
				io.Copy(io.Discard, br)
				return
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// findNotifier finds notify-send, else osascript, on path.
func findNotifier(path string) []string {
	for _, tool := range []string{"notify-send", "osascript"} {
		if p := lookPath(tool, path); p != "" {
			return []string{p}
		}
	}
	return nil
}

// lookPath finds the executable file in the directories of path (the
// app's PATH, not ganger's own).
func lookPath(file, path string) string {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // a relative PATH entry depends on the working directory
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// envValue is key's value in environ ("KEY=VALUE"), the last one winning.
func envValue(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// appleString quotes s as an AppleScript string.
func appleString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
