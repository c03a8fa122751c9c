//go:build linux

// The scripts lean on Linux: pidfds, /proc, TCGETS, the parent-death
// signal. Elsewhere the package's other tests still build and run.

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/ports"
)

// The test binary is also ganger and fakeproc: testscript puts both names on
// PATH, so scripts drive the real CLI and Procfiles run real child processes.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ganger":   main,
		"fakeproc": fakeprocMain,
		"status":   statusMain,
		"ctrlc":    ctrlcMain,
		"fakeweb":  fakewebMain,
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile":   cmdWaitfile,
			"sig":        cmdSig,
			"pidgone":    cmdPidgone,
			"groupsgone": cmdGroupsgone,
			"bigline":    cmdBigline,
			"bigenv":     cmdBigenv,
			"mode":       cmdMode,
			"freeport":   cmdFreeport,
			"gangerpids": cmdGangerpids,
			"gonewithin": cmdGonewithin,
			"nomatch":    cmdNomatch,
			"waitgrep":   cmdWaitgrep,
		},
		Setup: func(e *testscript.Env) error {
			// Scripts see no colour settings of the developer's shell.
			e.Setenv("NO_COLOR", "")
			e.Setenv("FORCE_COLOR", "")
			// Scripts run in parallel and share the default ports: two
			// pre-flight checks binding 5000 at the same instant would
			// fail each other. port_busy.txtar turns the check back on, and
			// so does boot.txtar, whose ports come from freeport.
			e.Setenv("GANGER_NO_PORT_CHECK", "true")
			// A -race build sleeps a second as it exits with 0, to catch
			// races at exit. Every ganger, fakeproc and status in a script
			// is such a build: without this, scripts spent most of their
			// time asleep.
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			// A detached start (start -D) outlives the commands of a
			// script that fails half way: stop it when the script ends.
			work := e.WorkDir
			e.Defer(func() { stopDetached(work) })
			return nil
		},
	})
}

// scriptDeadline bounds every wait in a script and in its helpers. Each
// wait ends on its condition, so the bound costs nothing when things work;
// it is generous because under load (two cores, the whole suite with -race)
// a step that takes a tenth of a second idle can take tens of seconds.
const scriptDeadline = 90 * time.Second

// waitfile FILE...: wait until each file exists.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: waitfile FILE...")
	}
	for _, a := range args {
		if err := waitPath(ts.MkAbs(a), nil); err != nil {
			ts.Fatalf("%v", err)
		}
	}
}

// waitPath waits until path exists, for at most scriptDeadline, or until
// gone (when not nil) is closed.
func waitPath(path string, gone <-chan struct{}) error {
	deadline := time.Now().Add(scriptDeadline)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-gone:
			if _, err := os.Stat(path); err == nil {
				return nil
			}
			return errGone
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %s", path, scriptDeadline)
		}
		time.Sleep(5 * time.Millisecond) // a file has no wait primitive; poll with a deadline
	}
}

var errGone = errors.New("gone")

func readPid(ts *testscript.TestScript, file string) int {
	b, err := os.ReadFile(ts.MkAbs(file))
	ts.Check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	ts.Check(err)
	if pid <= 1 {
		ts.Fatalf("%s holds pid %d: refusing", file, pid)
	}
	return pid
}

// sig SIGNAL PIDFILE: send SIGNAL (TERM, INT, HUP, USR1, KILL, ...) to the
// process whose pid is in PIDFILE.
func cmdSig(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sig SIGNAL PIDFILE")
	}
	s, err := runner.ParseSignal(args[0])
	ts.Check(err)
	ts.Check(syscall.Kill(readPid(ts, args[1]), s))
}

// groupsgone [FILE]: check that the process group of every process the
// last command's stdout (or FILE) says was "started with pid N" is empty now. For a ganger
// that has exited: it returns only once every group it started is empty,
// so nothing is waited for. It needs no pid file, which a child stopped
// early in its start may not have written yet.
func cmdGroupsgone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: groupsgone [FILE]")
	}
	file := "stdout"
	if len(args) == 1 {
		file = args[0]
	}
	n := 0
	for _, line := range strings.Split(ts.ReadFile(file), "\n") {
		_, after, ok := strings.Cut(line, "| started with pid ")
		if !ok {
			continue
		}
		pgid, err := strconv.Atoi(strings.TrimSpace(after))
		ts.Check(err)
		if pgid <= 1 {
			ts.Fatalf("stdout names pid %d: refusing", pgid)
		}
		if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
			ts.Fatalf("process group %d still has members after ganger exited (kill: %v)", pgid, err)
		}
		n++
	}
	if n == 0 {
		ts.Fatalf("no \"started with pid\" line in %s", file)
	}
}

// pidgone PIDFILE...: wait until each process has exited (with ! : check
// that each is still running).
func cmdPidgone(ts *testscript.TestScript, neg bool, args []string) {
	for _, a := range args {
		pid := readPid(ts, a)
		if neg {
			if err := syscall.Kill(pid, 0); err != nil {
				ts.Fatalf("process %d (%s) is gone, want it running", pid, a)
			}
			continue
		}
		if err := waitGone(pid, scriptDeadline); err != nil {
			ts.Fatalf("process %d (%s): %v", pid, a, err)
		}
	}
}

// waitGone waits for pid to exit, with a pidfd: it works for processes that
// are not our children, without polling.
func waitGone(pid int, timeout time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(timeout.Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("still running after " + timeout.String())
		}
		return nil
	}
}

// freeport VAR [N]: set VAR to a base port P such that P, P+100, ...,
// P+100×(N-1) (the PORTs of the first N Procfile entries) are free now, as
// ganger's own check sees it, and were handed to no other script of this
// run; set VAR_k to P+100×k for k from 1 to N-1. P is below the kernel's
// ephemeral range (32768 and up), so that no outgoing connection takes it
// meanwhile. N defaults to 1.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: freeport VAR [N]")
	}
	n := 1
	if len(args) == 2 {
		var err error
		n, err = strconv.Atoi(args[1])
		ts.Check(err)
	}
	if n < 1 || n > 100 {
		ts.Fatalf("freeport: N must be 1 to 100")
	}
	offsets := make([]int, n)
	for k := range offsets {
		offsets[k] = 100 * k
	}
	base, err := freeBase(args[0], offsets...)
	ts.Check(err)
	for k := 1; k < n; k++ {
		ts.Setenv(fmt.Sprintf("%s_%d", args[0], k), strconv.Itoa(base+100*k))
	}
	ts.Setenv(args[0], strconv.Itoa(base))
}

// freeBase returns a base port P such that P+offset, for each of offsets
// (0 is not implied), is free now, as ganger's own check sees it, and was
// handed to no other script or test of this run; it records them as handed
// out. P is at least 20000 and P+offset is below the kernel's ephemeral
// range (32768 and up), so that no outgoing connection takes it meanwhile.
func freeBase(what string, offsets ...int) (int, error) {
	freePorts.Lock()
	defer freePorts.Unlock()
	if freePorts.given == nil {
		freePorts.given = map[int]bool{}
	}
	const lo = 20000
	hi := 32768 - slices.Max(offsets)
	start := rand.IntN(hi - lo)
next:
	for i := range hi - lo {
		base := lo + (start+i)%(hi-lo)
		wants := make([]ports.Want, len(offsets))
		for k, off := range offsets {
			wants[k] = ports.Want{Port: base + off, For: what}
			if freePorts.given[wants[k].Port] {
				continue next
			}
		}
		if ports.Check(wants) != nil {
			continue
		}
		for _, w := range wants {
			freePorts.given[w.Port] = true
		}
		return base, nil
	}
	return 0, fmt.Errorf("freeport: no free ports at %v from a base of %d up", offsets, lo)
}

// freePorts are the ports freeport has handed out in this run.
var freePorts struct {
	sync.Mutex
	given map[int]bool
}

// bigline FILE PREFIX N: FILE holds a line PREFIX followed by exactly N 'x'.
func cmdBigline(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: bigline FILE PREFIX N")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	data := ts.ReadFile(args[0])
	want := args[1] + strings.Repeat("x", n) + "\n"
	found := strings.Contains(data, "\n"+want) || strings.HasPrefix(data, want)
	if found == neg {
		ts.Fatalf("line %q + %d×'x' found: %v", args[1], n, found)
	}
}

// mode PATH PERM: PATH (not followed if a symlink) has the permission bits
// PERM, in octal such as 0600; with !, any other bits.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PATH PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Lstat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := fi.Mode().Perm()
	if (got == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %#o, want %s%#o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// fakeprocMain is a child process for Procfiles in scripts. Its flags run in
// the order listed; without -exit it then waits to be signalled.
func fakeprocMain() {
	fs := flag.NewFlagSet("fakeproc", flag.ExitOnError)
	pidfile := fs.String("pidfile", "", "write own pid to `FILE`")
	ppidfile := fs.String("ppidfile", "", "write the parent's pid (ganger) to `FILE`")
	envKeys := fs.String("env", "", "print KEY=VALUE for these comma-separated `KEYS`")
	lines := fs.Int("lines", 0, "print `N` numbered lines")
	bigline := fs.Int("bigline", 0, "print one line of `N` 'x'")
	child := fs.String("child", "", "start a grandchild in the same group; write its pid to `FILE`")
	orphan := fs.String("orphan", "", "double-fork an escaped grandchild (new session); write its pid to `FILE`")
	ignoreTerm := fs.Bool("ignoreterm", false, "ignore SIGTERM")
	trap := fs.String("trap", "", "on SIGUSR1 write `FILE`")
	onInt := fs.String("onint", "", "on SIGINT write `FILE` and exit 130")
	onTerm := fs.String("onterm", "", "on SIGTERM write `FILE` (then die of it, unless -ignoreterm)")
	waitFor := fs.String("wait", "", "after writing the pid files, wait until `FILE` exists")
	ready := fs.String("ready", "", "create `FILE` when set up")
	nonl := fs.String("nonl", "", "print `TEXT` without a newline before exiting")
	after := fs.String("after", "", "before exiting, wait until `FILE` exists")
	tty := fs.Bool("isatty", false, "print what stdout and stdin are (terminal or not), the terminal's size and session")
	listen := fs.String("listen", "", "listen on TCP `ADDR` (port 0: any free one)")
	portfile := fs.String("portfile", "", "with -listen, write PORT=the port to `FILE` (an env file)")
	say := fs.String("say", "", "print the line `TEXT` (after -lines)")
	late := fs.String("late", "", "after -ready, wait until `FILE` exists, then print -latesay's line")
	lateSay := fs.String("latesay", "", "the line `TEXT` that -late prints")
	exit := fs.Int("exit", -1, "exit with `CODE` instead of waiting")
	hang := fs.Bool("hang", false, "wait forever (the default without -exit)")
	fs.Parse(os.Args[1:])
	_ = hang

	// Files appear whole (written aside, then renamed): scripts wait for them.
	write := func(file, s string) {
		tmp := file + ".tmp" + strconv.Itoa(os.Getpid())
		err := os.WriteFile(tmp, []byte(s), 0o644)
		if err == nil {
			err = os.Rename(tmp, file)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakeproc:", err)
			os.Exit(99)
		}
	}
	// A file that never appears is a failure, said so: going on as if it
	// had appeared would exit early and stop the others mid-way (a 10 MiB
	// line cut short, under load, looked like a bug in ganger).
	waitFile := func(file string) {
		if err := waitPath(file, nil); err != nil {
			fmt.Fprintln(os.Stderr, "fakeproc:", err)
			os.Exit(98)
		}
	}
	if *onInt != "" {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT)
		go func() {
			<-c
			write(*onInt, "INT\n")
			os.Exit(130)
		}()
	}
	switch {
	case *onTerm != "":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		go func() {
			for range c {
				write(*onTerm, "TERM\n")
				if !*ignoreTerm {
					signal.Reset(syscall.SIGTERM)
					syscall.Kill(os.Getpid(), syscall.SIGTERM)
				}
			}
		}()
	case *ignoreTerm:
		signal.Ignore(syscall.SIGTERM)
	}
	if *trap != "" {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR1)
		go func() {
			<-c
			write(*trap, "USR1\n")
		}()
	}
	if *pidfile != "" {
		write(*pidfile, strconv.Itoa(os.Getpid()))
	}
	if *ppidfile != "" {
		write(*ppidfile, strconv.Itoa(os.Getppid()))
	}
	if *waitFor != "" {
		waitFile(*waitFor)
	}
	for _, k := range strings.Split(*envKeys, ",") {
		if k != "" {
			fmt.Printf("%s=%s\n", k, os.Getenv(k))
		}
	}
	if *tty {
		fmt.Println(describeTTY())
	}
	if *listen != "" {
		l, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakeproc:", err)
			os.Exit(99)
		}
		defer l.Close()
		if *portfile != "" {
			write(*portfile, fmt.Sprintf("PORT=%d\n", l.Addr().(*net.TCPAddr).Port))
		}
	}
	if *lines > 0 {
		var b bytes.Buffer
		for i := 1; i <= *lines; i++ {
			fmt.Fprintf(&b, "line %d of %d\n", i, *lines)
			if b.Len() > 32<<10 {
				os.Stdout.Write(b.Bytes())
				b.Reset()
			}
		}
		os.Stdout.Write(b.Bytes())
	}
	if *say != "" {
		fmt.Println(*say)
	}
	if *bigline > 0 {
		os.Stdout.Write(append(bytes.Repeat([]byte("x"), *bigline), '\n'))
	}
	self, _ := os.Executable()
	if *child != "" {
		args := []string{"fakeproc"}
		if *ignoreTerm {
			args = append(args, "-ignoreterm")
		}
		c := &exec.Cmd{Path: self, Args: args}
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "fakeproc:", err)
			os.Exit(99)
		}
		write(*child, strconv.Itoa(c.Process.Pid))
	}
	if *orphan != "" {
		// The middle process starts the escapee in a new session and
		// exits, so the escapee is reparented (to ganger, the subreaper).
		mid := &exec.Cmd{Path: self, Args: []string{"fakeproc", "-child", *orphan + ".tmp", "-exit", "0"},
			SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
		if err := mid.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "fakeproc:", err)
			os.Exit(99)
		}
		if err := os.Rename(*orphan+".tmp", *orphan); err != nil {
			fmt.Fprintln(os.Stderr, "fakeproc:", err)
			os.Exit(99)
		}
	}
	if *ready != "" {
		write(*ready, "ready\n")
	}
	if *late != "" {
		waitFile(*late)
		fmt.Println(*lateSay)
	}
	if *nonl != "" {
		os.Stdout.WriteString(*nonl)
	}
	if *after != "" {
		waitFile(*after)
	}
	if *exit >= 0 {
		os.Exit(*exit)
	}
	time.Sleep(24 * time.Hour) // wait to be signalled; the scripts never wait for this
}

// bigenv FILE KEY N: write an env file setting KEY to N bytes of 'x'.
func cmdBigenv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: bigenv FILE KEY N")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(args[1]+"="+strings.Repeat("x", n)+"\n"), 0o644))
}

// ctrlcMain runs "ctrlc READYFILE COMMAND [ARGS...]" as a user at a
// terminal would: the command is the foreground job of a new terminal; once
// READYFILE exists, Ctrl-C is typed and the command waited for. It prints
// everything the terminal showed, then "exit=N" (128+n for death by signal
// n), and exits 0. The command runs with ctrlc's environment and directory,
// which are the script's. When the command exits before READYFILE appears,
// does not exit after Ctrl-C, or leaves the terminal held open, ctrlc says so
// on stderr with what the terminal showed, and exits 1.
func ctrlcMain() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: ctrlc READYFILE COMMAND [ARGS...]")
		os.Exit(2)
	}
	ready, argv := os.Args[1], os.Args[2:]
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "TERM=dumb")
	ptmx, err := pty.Start(cmd) // new session, the pty as controlling terminal
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctrlc:", err)
		os.Exit(1)
	}
	var term lockedBuffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&term, ptmx) // ends with EIO once the last holder of the terminal exits
		close(copied)
	}()
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	fail := func(format string, args ...any) {
		select {
		case <-exited:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // its group: it leads the session
		}
		fmt.Fprintf(os.Stderr, "ctrlc: %s\n--- the terminal showed:\n%s\n--- end of the terminal\n",
			fmt.Sprintf(format, args...), showTerminal(term.String()))
		os.Exit(1)
	}
	switch err := waitPath(ready, exited); {
	case errors.Is(err, errGone):
		select { // let the copy catch up, unless something else holds the terminal
		case <-copied:
		case <-time.After(5 * time.Second):
		}
		fail("%s exited (%v) before %s appeared", argv[0], cmd.ProcessState, ready)
	case err != nil:
		fail("%v", err)
	}
	if _, err := ptmx.Write([]byte{3}); err != nil { // ^C: the terminal sends SIGINT to the foreground group
		fail("typing Ctrl-C: %v", err)
	}
	select {
	case <-exited:
	case <-time.After(scriptDeadline):
		fail("%s did not exit within %s of Ctrl-C", argv[0], scriptDeadline)
	}
	select {
	case <-copied:
	case <-time.After(scriptDeadline):
		fail("the terminal stayed open for %s after %s exited: something still holds it", scriptDeadline, argv[0])
	}
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	fmt.Printf("%sexit=%d\n", showTerminal(term.String()), code)
}

// showTerminal turns a terminal's CRLFs into newlines and ends the text with
// one (after the echoed ^C, say).
func showTerminal(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// lockedBuffer is a bytes.Buffer that one goroutine writes while another
// reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// describeTTY says whether stdout and stdin are terminals and, for a
// terminal, its size, whether it is the controlling one and whether this
// process leads the session.
func describeTTY() string {
	is := func(fd int) string {
		if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err == nil {
			return "terminal"
		}
		return "not-a-terminal"
	}
	s := "stdout=" + is(1) + " stdin=" + is(0)
	if ws, err := unix.IoctlGetWinsize(1, unix.TIOCGWINSZ); err == nil {
		s += fmt.Sprintf(" size=%dx%d", ws.Col, ws.Row)
	}
	if f, err := os.Open("/dev/tty"); err == nil {
		f.Close()
		s += " ctty=yes"
	}
	if sid, err := unix.Getsid(0); err == nil && sid == os.Getpid() {
		s += " leader=yes"
	}
	return s
}

// statusKillAfter is how long status waits, after passing on testscript's
// signal, before it kills the command: a failed script ends promptly and
// shows its log even when ganger does not stop.
const statusKillAfter = 20 * time.Second

// statusMain runs "status COMMAND [ARGS...]": it runs the command with the
// same stdio, passes on the signals testscript sends when a script fails (so a
// background ganger shuts down instead of holding the output pipe open), then
// prints "exit=N" (128+n for death by signal n) and exits 0. Scripts assert
// exact exit codes of background commands with it. A command still running
// statusKillAfter after the first such signal is killed.
func statusMain() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: status COMMAND [ARGS...]")
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "status:", err)
		os.Exit(2)
	}
	done := make(chan struct{})
	go func() {
		var kill <-chan time.Time
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
				if kill == nil {
					kill = time.After(statusKillAfter)
				}
			case <-kill:
				// Still running: it would hold the failed script (and
				// with it the whole test binary) until its grace
				// period ends, -t 10m in grace_kill.
				cmd.Process.Kill()
			case <-done:
				return
			}
		}
	}()
	cmd.Wait()
	close(done)
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	fmt.Printf("exit=%d\n", code)
}

// gangerpids PIDFILE INNERFILE KEEPERFILE: from the process in PIDFILE, go
// up its parents to the first that runs ganger (argv[0] ganger): write its
// pid to INNERFILE, and its parent's to KEEPERFILE when that runs ganger
// too (the keeper), else its own again (a ganger running alone).
func cmdGangerpids(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: gangerpids PIDFILE INNERFILE KEEPERFILE")
	}
	isGanger := func(pid int) bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		argv0, _, _ := bytes.Cut(b, []byte{0})
		return err == nil && filepath.Base(string(argv0)) == "ganger"
	}
	pid := readPid(ts, args[0])
	for range 8 {
		ppid, err := parentOf(pid)
		ts.Check(err)
		if ppid <= 1 {
			break
		}
		pid = ppid
		if !isGanger(pid) {
			continue
		}
		keeper := pid
		if kp, err := parentOf(pid); err == nil && kp > 1 && isGanger(kp) {
			keeper = kp
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(strconv.Itoa(pid)), 0o644))
		ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(strconv.Itoa(keeper)), 0o644))
		return
	}
	ts.Fatalf("no ganger above process %s (%s)", ts.ReadFile(args[0]), args[0])
}

// gonewithin DURATION PIDFILE...: check that each process has exited
// within DURATION of the command's start (a zombie has). One still running
// then is killed, through a pidfd, as the script started it, and the
// command fails naming it: a failed script leaves nothing behind.
func cmdGonewithin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: gonewithin DURATION PIDFILE...")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	deadline := time.Now().Add(d)
	var left []string
	for _, a := range args[1:] {
		pid := readPid(ts, a)
		if err := waitGone(pid, max(time.Until(deadline), time.Millisecond)); err != nil {
			if fd, err := unix.PidfdOpen(pid, 0); err == nil {
				unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
				unix.Close(fd)
			}
			left = append(left, fmt.Sprintf("%d (%s)", pid, a))
		}
	}
	if len(left) > 0 {
		ts.Fatalf("still running %s after the start of the wait, killed now: %s", d, strings.Join(left, ", "))
	}
}

// nomatch GLOB: check that no file matches GLOB (with !: that one does).
func cmdNomatch(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: nomatch GLOB")
	}
	m, err := filepath.Glob(ts.MkAbs(args[0]))
	ts.Check(err)
	if neg && len(m) == 0 {
		ts.Fatalf("nothing matches %s", args[0])
	}
	if !neg && len(m) > 0 {
		ts.Fatalf("%s matches %s", args[0], strings.Join(m, ", "))
	}
}

// waitgrep FILE REGEXP: wait until FILE (written by a background command)
// has a line matching REGEXP.
func cmdWaitgrep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitgrep FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	deadline := time.Now().Add(scriptDeadline)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s has no line matching %q after %s; it holds:\n%s", args[0], args[1], scriptDeadline, b)
		}
		time.Sleep(5 * time.Millisecond) // a file has no wait primitive; poll with a deadline
	}
}

// stopDetached stops the detached starts (start -D) whose app root is dir
// or one of its subdirectories, one level down: the ganger named by the
// app's .ganger/start.lock gets SIGTERM (its stop ladder), then SIGKILL if
// it is still running after scriptDeadline. Only a ganger of this binary is
// signalled: the lock names the pid of the start that holds it, which the
// script started.
func stopDetached(dir string) {
	locks, _ := filepath.Glob(filepath.Join(dir, ".ganger", "start.lock"))
	more, _ := filepath.Glob(filepath.Join(dir, "*", ".ganger", "start.lock"))
	for _, lock := range append(locks, more...) {
		b, err := os.ReadFile(lock)
		if err != nil {
			continue
		}
		first, _, _ := strings.Cut(string(b), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(first))
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		argv0, _, _ := bytes.Cut(cmdline, []byte{0})
		if err != nil || filepath.Base(string(argv0)) != "ganger" {
			continue // gone, or not a ganger
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0)
		if waitGone(pid, scriptDeadline) != nil {
			unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			waitGone(pid, scriptDeadline)
		}
		unix.Close(fd)
	}
}
