package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gangerdev/ganger/runner"
)

// The keeper. Nothing ganger starts may outlive it, not even after
// "kill -9 ganger": no code of a process killed so can run, so on Linux a
// command that starts processes (needsKeeper) runs as two processes of
// this binary. The one the user started, the keeper, becomes a child
// subreaper and starts the other, the inner ganger, which does the work.
// The keeper passes on the signals it gets, waits for the inner and exits
// with its code. Whenever the inner ends, killed or not, the keeper kills
// every process left below it (orphans come to it, a subreaper) and only
// then exits. The inner is a subreaper too, and has a parent-death signal
// it catches: when the keeper dies, the inner kills every process below
// itself and exits. So kill -9 of either leaves nothing; only both killed
// at the same instant (a SIGKILL to their process group) leaves what the
// parent-death signals and the watchdog of start do not reach.
//
// Both are in the caller's process group, the terminal's foreground one
// when run from a shell: Ctrl-C reaches both (the keeper passes it on too,
// which the inner takes for the same interrupt, or ignores in run), a
// one-off reads the terminal, and job control stops and continues both.
// The keeper loads no app and parses no flag: it costs one exec of this
// binary.

// keeperGone is the inner's parent-death signal: one that ganger otherwise
// neither uses nor forwards, that Go ignores until it is caught (the
// keeper may die before the inner is set up, which the inner checks once
// it catches it), and that nobody sends to a user's process.
const keeperGone = syscall.SIGPWR

// keeperSignals are what the keeper passes on to the inner ganger: those a
// terminal or a caller sends to ganger.
var keeperSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// keep is the keeper's part of main. In the inner ganger (keeperEnv set)
// it takes keeperEnv out of the environment and sets up the inner's side,
// then lets main go on. For a command that needs a keeper it runs the
// keeper and returns the code to exit with. Otherwise main goes on, as
// ganger alone.
func keep(args []string) kept {
	if v, ok := os.LookupEnv(keeperEnv); ok {
		os.Unsetenv(keeperEnv)
		return guardInner(v)
	}
	if !needsKeeper(args) {
		return kept{}
	}
	if code, ok := runKeeper(args); ok {
		return kept{exit: true, code: code}
	}
	return kept{}
}

// runKeeper starts the inner ganger with args, passes signals on to it,
// and once it has ended kills what is left below and returns its code,
// 128+n if it died of signal n. When no inner can be started (no /proc, a
// kernel before 3.4) it returns ok false, and ganger runs alone.
func runKeeper(args []string) (code int, ok bool) {
	// The parent-death signal fires when the thread that started the child
	// ends, not the process: this goroutine keeps its thread, never
	// unlocked, until the keeper exits.
	runtime.LockOSThread()
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, keeperSignals...)
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe", // this binary, even if replaced on disk meanwhile
		Args:        args,
		Env:         append(os.Environ(), keeperEnv+"="+strconv.Itoa(os.Getpid())),
		Stdin:       os.Stdin, // files: passed as they are, no copying
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: keeperGone},
	}
	if _, ok := os.LookupEnv(daemonEnv); ok {
		// A detached start: its inner is the one that reports to the caller.
		syscall.CloseOnExec(daemonTextFD)
		syscall.CloseOnExec(daemonReadyFD)
		cmd.ExtraFiles = []*os.File{os.NewFile(daemonTextFD, "daemon-text"), os.NewFile(daemonReadyFD, "daemon-ready")}
	}
	err := runner.Subreaper()
	if err == nil {
		err = cmd.Start()
	}
	if err == nil {
		for _, f := range cmd.ExtraFiles {
			f.Close() // the caller sees the end of them when the inner closes its copies
		}
	} // else this ganger runs alone and reports to the caller itself
	if err != nil {
		signal.Stop(sigs)
		runtime.UnlockOSThread()
		return 0, false
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait() // its status is in cmd.ProcessState
		close(exited)
	}()
	for running := true; running; {
		select {
		case s := <-sigs:
			cmd.Process.Signal(s)
		case <-exited:
			running = false
		}
	}
	if err := runner.KillTree(); err != nil {
		fmt.Fprintf(os.Stderr, "ganger: %v\n", err)
	}
	return exitCodeOf(cmd.ProcessState), true
}

// guardInner sets up the inner ganger, whose keeper has pid v: it takes
// the keeper's name, becomes a subreaper and, once its keeper is gone,
// kills every process below itself and exits. It says to exit at once when
// the keeper is already gone, or v is not the keeper's pid.
func guardInner(v string) kept {
	keeper, err := strconv.Atoi(v)
	if err != nil || keeper <= 1 || keeper != os.Getppid() {
		// Either the keeper died in the moment since it started this
		// process, or the variable did not come from a keeper.
		fmt.Fprintf(os.Stderr, "ganger: the ganger that started this one (%s=%q) is gone; hint: %s is ganger's own, never set it\n", keeperEnv, v, keeperEnv)
		return kept{exit: true, code: 1}
	}
	nameAfter(keeper)
	// Without it (it cannot fail where the keeper's worked), orphans go
	// to the keeper: only a kill -9 of the keeper would then miss them.
	runner.Subreaper()
	k := kept{sweep: new(sync.Mutex)}
	gone := make(chan os.Signal, 1)
	signal.Notify(gone, keeperGone)
	go func() {
		for range gone {
			// The kernel reparents this process before it sends the
			// signal: a keeper still the parent means someone else sent it.
			if os.Getppid() == keeper {
				continue
			}
			// main meanwhile waits in finish; a process the work starts
			// meanwhile (a restart) is killed by the next pass.
			k.sweep.Lock()
			runner.KillTree()
			// No one is left to take the code: the keeper's parent saw
			// the keeper die.
			os.Exit(128 + int(syscall.SIGKILL))
		}
	}()
	if os.Getppid() != keeper {
		// Gone before the signal was caught: Go ignored it.
		return kept{exit: true, code: 128 + int(syscall.SIGKILL)}
	}
	return k
}

// nameAfter gives this process the name (comm) of process pid, its
// keeper's: started as /proc/self/exe it would be "exe" to ps -C, pgrep,
// killall and top.
func nameAfter(pid int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return
	}
	f, err := os.OpenFile("/proc/self/comm", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(strings.TrimSuffix(string(b), "\n"))
}
