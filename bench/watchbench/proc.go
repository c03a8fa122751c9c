package main

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/gangerdev/ganger/bench/internal/benchutil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// gangerProc is one running ganger with its stdout on a pipe, read line by
// line, each line stamped when it arrives.
type gangerProc struct {
	b       *bench
	cmd     *exec.Cmd
	started time.Time
	lines   chan line
	exited  chan struct{}
	log     []string    // every line read so far, for error messages
	pids    map[int]int // pid → pgid of everything seen below ganger
	drained bool        // a goroutine owns lines (and log) from now on
}

type line struct {
	at   time.Time
	text string
}

// msg is what follows the "name | " prefix.
func (l line) msg() string {
	_, m, _ := strings.Cut(l.text, " | ")
	return m
}

// start runs "ganger start --no-timestamp --no-port-check" plus args in
// app, in its own process group so that a Ctrl-C of this program does not
// reach it: this program stops it.
func (b *bench) start(app string, args ...string) (*gangerProc, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	argv := append([]string{"start", "--no-timestamp", "--no-port-check"}, args...)
	cmd := exec.Command(b.ganger, argv...)
	cmd.Dir = app
	cmd.Env = benchutil.Env()
	cmd.Stdout = pw
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	g := &gangerProc{b: b, cmd: cmd, lines: make(chan line, 4096), exited: make(chan struct{}), pids: map[int]int{}}
	g.started = time.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	pw.Close()
	go func() {
		defer pr.Close()
		defer close(g.lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			g.lines <- line{at: time.Now(), text: sc.Text()}
		}
	}()
	go func() {
		cmd.Wait()
		close(g.exited)
	}()
	return g, nil
}

func (g *gangerProc) pid() int { return g.cmd.Process.Pid }

// next reads lines until match accepts one ("name | msg", name trimmed),
// the output ends, or the deadline passes.
func (g *gangerProc) next(match func(name, msg string) bool) (line, error) {
	t := time.NewTimer(g.b.cfg.deadline)
	defer t.Stop()
	for {
		select {
		case l, ok := <-g.lines:
			if !ok {
				return line{}, fmt.Errorf("ganger's output ended%s", g.tail())
			}
			name, msg := g.record(l)
			if match(strings.TrimSpace(name), msg) {
				return l, nil
			}
		case <-t.C:
			return line{}, fmt.Errorf("nothing expected from ganger after %v%s", g.b.cfg.deadline, g.tail())
		case <-g.b.ctx.Done():
			return line{}, g.b.ctx.Err()
		}
	}
}

// record logs l, notes the pid of a "started with pid" line so that stop
// checks it is gone, and splits l into name and message.
func (g *gangerProc) record(l line) (name, msg string) {
	g.log = append(g.log, l.text)
	name, msg, _ = strings.Cut(l.text, " | ")
	name = strings.TrimSpace(name)
	if v, ok := strings.CutPrefix(msg, "started with pid "); ok {
		if pid, err := strconv.Atoi(v); err == nil {
			if _, known := g.pids[pid]; !known {
				g.pids[pid] = 0 // group unknown: killed by pid only
			}
		}
	}
	return name, msg
}

// up waits for the child's "started with pid" and then its "up" line.
func (g *gangerProc) up() (line, error) {
	if _, err := g.next(func(name, msg string) bool {
		return name == procName+".1" && strings.HasPrefix(msg, "started with pid ")
	}); err != nil {
		return line{}, err
	}
	return g.next(func(name, msg string) bool { return name == procName+".1" && msg == "up" })
}

// tally counts lifecycle lines.
type tally struct{ restarts, starts int }

// quiet reads lines for d and counts the restarts and starts among them.
func (g *gangerProc) quiet(d time.Duration) (tally, error) {
	var n tally
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case l, ok := <-g.lines:
			if !ok {
				return n, fmt.Errorf("ganger's output ended%s", g.tail())
			}
			name, msg := g.record(l)
			switch {
			case name == "system" && strings.HasPrefix(msg, "restarting "):
				n.restarts++
			case name == procName+".1" && strings.HasPrefix(msg, "started with pid "):
				n.starts++
			}
		case <-t.C:
			return n, nil
		case <-g.b.ctx.Done():
			return n, g.b.ctx.Err()
		}
	}
}

// tail is the last lines read, for error messages.
func (g *gangerProc) tail() string {
	s := g.log[max(0, len(g.log)-10):]
	if len(s) == 0 {
		return " (no output)"
	}
	return "; last lines:\n\t" + strings.Join(s, "\n\t")
}

// stop sends SIGINT and checks that ganger exits with 130 and leaves
// nothing running: not its children, not its watchdog.
func (g *gangerProc) stop() error {
	g.note()
	if err := g.cmd.Process.Signal(syscall.SIGINT); err != nil {
		g.kill()
		return fmt.Errorf("SIGINT to ganger: %w", err)
	}
	g.drain() // keep the pipe flowing while ganger stops
	select {
	case <-g.exited:
	case <-time.After(g.b.cfg.deadline):
		g.kill()
		return fmt.Errorf("ganger still running %v after SIGINT", g.b.cfg.deadline)
	}
	if code := g.cmd.ProcessState.ExitCode(); code != 130 {
		g.kill()
		return fmt.Errorf("ganger exited with %d after SIGINT, want 130", code)
	}
	// The children may be a moment behind ganger: the watchdog and the
	// reaper are theirs to finish.
	var left []int
	for end := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if left = g.alive(); len(left) == 0 || time.Now().After(end) {
			break
		}
	}
	if len(left) > 0 {
		g.kill()
		return fmt.Errorf("left running after ganger exited: %v", left)
	}
	return nil
}

// note records the processes below ganger now.
func (g *gangerProc) note() {
	for _, p := range descendants(g.pid()) {
		g.pids[p.pid] = p.pgid
	}
}

// alive returns the recorded processes still running (zombies count as
// gone).
func (g *gangerProc) alive() []int {
	var out []int
	for pid := range g.pids {
		if st, err := stat(pid); err == nil && st.state != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// kill ends ganger and everything recorded below it, by pid and process
// group, when a step failed.
func (g *gangerProc) kill() {
	select {
	case <-g.exited:
	default:
		g.note()
		syscall.Kill(g.pid(), syscall.SIGKILL)
		<-g.exited
	}
	for pid, pgid := range g.pids {
		if pgid == pid {
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
	g.drain()
}

// drain discards the rest of the output in the background, once.
func (g *gangerProc) drain() {
	if g.drained {
		return
	}
	g.drained = true
	go func() {
		for range g.lines {
		}
	}()
}

// procStat is what this program uses of /proc/PID/stat.
type procStat struct {
	state        string
	ppid, pgid   int
	utime, stime int64
}

func stat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command", pid)
	}
	// After the command: state is field 3, ppid 4, pgrp 5, utime 14 and
	// stime 15.
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	var st procStat
	var errs [4]error
	st.state = f[0]
	st.ppid, errs[0] = strconv.Atoi(f[1])
	st.pgid, errs[1] = strconv.Atoi(f[2])
	st.utime, errs[2] = strconv.ParseInt(f[11], 10, 64)
	st.stime, errs[3] = strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(errs[:]...); err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return st, nil
}

type procRef struct{ pid, pgid int }

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []procRef {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]procRef{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := stat(p); err == nil {
			children[st.ppid] = append(children[st.ppid], procRef{p, st.pgid})
		}
	}
	var out []procRef
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

// cpuTime reads utime+stime of pid.
func cpuTime(pid int) (time.Duration, error) {
	st, err := stat(pid)
	if err != nil {
		return 0, err
	}
	return time.Duration(st.utime+st.stime) * time.Second / benchutil.ClkTck, nil
}

// inotifyWatches counts the watches on pid's inotify descriptors, from
// /proc/PID/fdinfo (one "inotify wd:" line per watch).
func inotifyWatches(pid int) (int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err != nil || target != "anon_inode:inotify" {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		if err != nil {
			return 0, err
		}
		for l := range strings.Lines(string(b)) {
			if strings.HasPrefix(l, "inotify wd:") {
				n++
			}
		}
	}
	return n, nil
}
