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
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"github.com/gangerdev/ganger/runner"
)

// The test binary is also ganger and fakeproc: testscript puts both names on
// PATH, so scripts drive the real CLI and Procfiles run real child processes.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ganger":   main,
		"fakeproc": fakeprocMain,
		"status":   statusMain,
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
			"ctrlc":      cmdCtrlC,
			"mode":       cmdMode,
		},
		Setup: func(e *testscript.Env) error {
			// Scripts see no colour settings of the developer's shell.
			e.Setenv("NO_COLOR", "")
			e.Setenv("FORCE_COLOR", "")
			// Scripts run in parallel and share the default ports: two
			// pre-flight checks binding 5000 at the same instant would
			// fail each other. port_busy.txtar turns the check back on.
			e.Setenv("GANGER_NO_PORT_CHECK", "true")
			// A -race build sleeps a second as it exits with 0, to catch
			// races at exit. Every ganger, fakeproc and status in a script
			// is such a build: without this, scripts spent most of their
			// time asleep.
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
	})
}

// scriptDeadline bounds every wait in a script.
const scriptDeadline = 20 * time.Second

// waitfile FILE...: wait until each file exists.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: waitfile FILE...")
	}
	for _, a := range args {
		waitPath(ts, ts.MkAbs(a))
	}
}

// waitPath waits until path exists, for at most scriptDeadline.
func waitPath(ts *testscript.TestScript, path string) {
	deadline := time.Now().Add(scriptDeadline)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("timed out waiting for %s", path)
		}
		time.Sleep(5 * time.Millisecond) // a file has no wait primitive; poll with a deadline
	}
}

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

// groupsgone: check that the process group of every process the last
// command's stdout says was "started with pid N" is empty now. For a ganger
// that has exited: it returns only once every group it started is empty,
// so nothing is waited for. It needs no pid file, which a child stopped
// early in its start may not have written yet.
func cmdGroupsgone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: groupsgone")
	}
	n := 0
	for _, line := range strings.Split(ts.ReadFile("stdout"), "\n") {
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
		ts.Fatalf("no \"started with pid\" line in stdout")
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
	waitFile := func(file string) {
		deadline := time.Now().Add(scriptDeadline)
		for {
			if _, err := os.Stat(file); err == nil || time.Now().After(deadline) {
				return
			}
			time.Sleep(5 * time.Millisecond) // a file has no wait primitive; poll with a deadline
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

// ctrlc OUTFILE READYFILE COMMAND [ARGS...]: run the command as the
// foreground job of a new terminal, wait until READYFILE exists, type Ctrl-C,
// and wait for the command to exit. Everything it printed, then "exit=N",
// goes to OUTFILE. This is what a user at a terminal does.
func cmdCtrlC(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: ctrlc OUTFILE READYFILE COMMAND [ARGS...]")
	}
	path := ""
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) { // the script's PATH, not the test's
		if p := filepath.Join(dir, args[2]); isExecutable(p) {
			path = p
			break
		}
	}
	if path == "" {
		ts.Fatalf("ctrlc: %s not found on the script's PATH", args[2])
	}
	cmd := &exec.Cmd{Path: path, Args: args[2:], Dir: ts.Getenv("WORK")}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "NO_COLOR", "FORCE_COLOR"} {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	cmd.Env = append(cmd.Env, "TERM=dumb")
	ptmx, err := pty.Start(cmd) // new session, the pty as controlling terminal
	ts.Check(err)
	defer ptmx.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&out, ptmx) // ends with EIO once the last holder of the terminal exits
		close(copied)
	}()
	waitPath(ts, ts.MkAbs(args[1]))
	_, err = ptmx.Write([]byte{3}) // ^C: the terminal sends SIGINT to the foreground group
	ts.Check(err)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(scriptDeadline):
		cmd.Process.Kill()
		ts.Fatalf("%s did not exit within %s of Ctrl-C", args[2], scriptDeadline)
	}
	select {
	case <-copied:
	case <-time.After(scriptDeadline):
		ts.Fatalf("the terminal stayed open after %s exited: something still holds it", args[2])
	}
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	text := strings.ReplaceAll(out.String(), "\r\n", "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n" // the echoed ^C
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(fmt.Sprintf("%sexit=%d\n", text, code)), 0o644))
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
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

// statusMain runs "status COMMAND [ARGS...]": it runs the command with the
// same stdio, passes on the signals testscript sends when a script fails (so a
// background ganger shuts down instead of holding the output pipe open), then
// prints "exit=N" (128+n for death by signal n) and exits 0. Scripts assert
// exact exit codes of background commands with it.
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
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
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
