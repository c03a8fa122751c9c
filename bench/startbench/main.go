// Command startbench measures "ganger start" as a user meets it: output
// throughput against cat, start-up and shutdown latency with many processes,
// ganger's own memory and idle CPU, and the grace period's accuracy. Every
// ratio is taken against a baseline measured in the same run, on the same
// machine, so figures from different machines can be compared by ratio.
//
// It builds ganger from the module it is run in and uses sh, cat and sleep
// as children. Linux only (it reads /proc). Run it from the repository:
//
//	go run ./bench/startbench
//	go run ./bench/startbench -reps 5 -lines 400000
//	go run ./bench/startbench -peer 'nf=node /path/to/foreman/nf.js start'
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gangerdev/ganger/bench/internal/benchutil"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "startbench:", err)
		os.Exit(1)
	}
}

// config holds the flags.
type config struct {
	procs    int           // throughput: processes
	lines    int           // throughput: lines per process
	many     int           // start-up, shutdown, memory: processes
	idle     time.Duration // idle CPU window
	reps     int           // repetitions of each timed scenario (the median is shown)
	grace    int           // -t seconds for the grace scenario
	deadline time.Duration // longest wait for anything
	peers    []peer        // other Procfile runners to measure beside ganger
}

// peer is another Procfile runner: its name and the command that starts a
// Procfile in the current directory.
type peer struct {
	name string
	argv []string
}

func run(args []string, stdout io.Writer) error {
	var c config
	fs := flag.NewFlagSet("startbench", flag.ContinueOnError)
	fs.IntVar(&c.procs, "procs", 4, "throughput: `N` processes")
	fs.IntVar(&c.lines, "lines", 200000, "throughput: `N` lines of 100 bytes per process")
	fs.IntVar(&c.many, "many", 50, "start-up, SIGINT and memory: `N` processes")
	fs.DurationVar(&c.idle, "idle", 10*time.Second, "idle CPU measured over `D` (the issue: 10s)")
	fs.IntVar(&c.reps, "reps", 3, "repeat each timed scenario `N` times; the median is shown")
	fs.IntVar(&c.grace, "t", 2, "grace `SECONDS` for the SIGTERM-ignoring child")
	fs.DurationVar(&c.deadline, "deadline", 2*time.Minute, "give up on any step after `D`")
	fs.Func("peer", "also measure start-up and SIGINT with `NAME=COMMAND` (run in the app's directory; repeatable)", func(v string) error {
		name, cmd, ok := strings.Cut(v, "=")
		argv := strings.Fields(cmd)
		if !ok || name == "" || len(argv) == 0 {
			return errors.New("want NAME=COMMAND, as nf='node nf.js start'")
		}
		c.peers = append(c.peers, peer{name: name, argv: argv})
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.reps < 1 || c.procs < 1 || c.lines < 1 || c.many < 1 {
		return errors.New("-reps, -procs, -lines and -many must be at least 1")
	}

	tmp, err := os.MkdirTemp("", "startbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b := &bench{cfg: c, tmp: tmp}
	fmt.Fprintln(stdout, "building ganger ...")
	if err := b.build(); err != nil {
		return err
	}

	return benchutil.Table(stdout, b.throughput, b.many, b.graceExcess, b.peersRows)
}

type row = benchutil.Row

type bench struct {
	cfg    config
	tmp    string
	ganger string
}

// build compiles ganger from the module the command runs in.
func (b *bench) build() error {
	bin, err := benchutil.Build(b.tmp, "startbench")
	b.ganger = bin
	return err
}

// app writes a Procfile into a fresh directory and returns the directory.
func (b *bench) app(name, procfile string) (string, error) {
	dir := filepath.Join(b.tmp, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "Procfile"), []byte(procfile), 0o644)
}

// proc is one running ganger (or baseline) with its output on a pipe.
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	out     *bufio.Reader
	outR    *os.File
	exited  chan struct{}
	waitErr error
	ended   time.Time
}

// startProc starts argv in dir with stdout on a pipe this program reads
// and stderr passed through.
func startProc(dir string, argv []string) (*proc, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = benchutil.Env()
	cmd.Stdout = pw
	cmd.Stderr = os.Stderr
	p := &proc{cmd: cmd, outR: pr, out: bufio.NewReaderSize(pr, 256<<10), exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	pw.Close()
	go func() {
		p.waitErr = cmd.Wait()
		p.ended = time.Now()
		close(p.exited)
	}()
	return p, nil
}

// kill ends p if it is still running; its watchdog stops the children.
func (p *proc) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Kill()
		<-p.exited
	}
	p.outR.Close()
}

// waitExit waits for p to exit and returns the exit code.
func (p *proc) waitExit(d time.Duration) (int, error) {
	select {
	case <-p.exited:
	case <-time.After(d):
		return 0, fmt.Errorf("%s still running after %v", p.cmd.Path, d)
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

// readUntil reads lines, calling match on each, until match returns true or
// the output ends. Reading happens in this goroutine; the deadline is
// enforced by killing p.
func (p *proc) readUntil(d time.Duration, match func(line []byte) bool) error {
	t := time.AfterFunc(d, func() { p.cmd.Process.Kill() })
	defer t.Stop()
	for {
		line, err := p.out.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				_, err = p.out.ReadSlice('\n')
			}
			continue
		}
		if len(line) > 0 && match(line) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("output of %s ended before the expected lines: %w", filepath.Base(p.cmd.Path), err)
		}
	}
}

// drain discards the rest of p's output in the background.
func (p *proc) drain() { go io.Copy(io.Discard, p.out) }

// throughput: N processes printing M lines each through ganger, against
// the baseline, the same writers through one cat (their output
// interleaved on one pipe, then copied by cat to the pipe this program
// reads), and against a raw cat of the same files. Each reads the same kind
// of pipe with the same reader; ganger's lines are each checked (right
// process, in order, none lost, torn or repeated), the baselines' bytes
// counted (writers sharing a pipe tear lines, which is what ganger is for).
func (b *bench) throughput() ([]row, error) {
	c := b.cfg
	var files []string
	var total int64
	var pf strings.Builder
	for i := 1; i <= c.procs; i++ {
		f := filepath.Join(b.tmp, fmt.Sprintf("data%d.txt", i))
		n, err := writeData(f, i, c.lines)
		if err != nil {
			return nil, err
		}
		total += n
		files = append(files, f)
		// The child stays alive after printing: the first exit would stop
		// the others before they finish.
		fmt.Fprintf(&pf, "p%d: cat %s && exec sleep 600\n", i, f)
	}
	dir, err := b.app("throughput", pf.String())
	if err != nil {
		return nil, err
	}
	want := c.procs * c.lines
	var writers strings.Builder // the same writers, sharing one pipe into cat
	writers.WriteString("(")
	for _, f := range files {
		fmt.Fprintf(&writers, "cat %s & ", f)
	}
	writers.WriteString("wait) | cat")

	var gTimes, wTimes, cTimes []time.Duration
	for range c.reps {
		// ganger
		p, err := startProc(dir, []string{b.ganger, "start", "--no-timestamp", "--no-port-check"})
		if err != nil {
			return nil, err
		}
		next := make([]int, c.procs+1)
		seen, bad := 0, ""
		err = p.readUntil(c.deadline, func(line []byte) bool {
			_, data, ok := bytes.Cut(line, []byte("| "))
			if !ok || !bytes.HasPrefix(data, []byte("data ")) {
				return false
			}
			proc, seq := parseData(data)
			if proc < 1 || proc > c.procs || seq != next[proc] || len(data) != dataLen {
				bad = fmt.Sprintf("line %q out of order or mangled (want p%d seq %d)", line, proc, next[max(0, min(proc, c.procs))])
				return true
			}
			next[proc]++
			seen++
			return seen == want
		})
		elapsed := time.Since(p.started)
		if err == nil && bad != "" {
			err = errors.New(bad)
		}
		if err != nil {
			p.kill()
			return nil, fmt.Errorf("throughput: %w", err)
		}
		p.drain()
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			p.kill()
			return nil, fmt.Errorf("SIGINT to ganger: %w", err)
		}
		if _, err := p.waitExit(c.deadline); err != nil {
			p.kill()
			return nil, err
		}
		p.outR.Close()
		gTimes = append(gTimes, elapsed)

		// baselines: the writers through one cat, and cat of the files
		for _, bl := range []struct {
			argv  []string
			times *[]time.Duration
		}{
			{[]string{"/bin/sh", "-c", writers.String()}, &wTimes},
			{append([]string{"cat"}, files...), &cTimes},
		} {
			t, err := readBytes(dir, bl.argv, total, c.deadline)
			if err != nil {
				return nil, fmt.Errorf("baseline %s: %w", bl.argv[0], err)
			}
			*bl.times = append(*bl.times, t)
		}
	}
	g, w, base := benchutil.Median(gTimes), benchutil.Median(wTimes), benchutil.Median(cTimes)
	mb := float64(total) / 1e6
	lines := float64(want)
	rate := func(d time.Duration) string {
		return fmt.Sprintf("%v (%.2f M lines/s)", benchutil.Round(d), lines/d.Seconds()/1e6)
	}
	return []row{
		{
			What:  fmt.Sprintf("throughput: %d×%d lines (%.0f MB), start to last line", c.procs, c.lines, mb),
			Value: rate(g),
			Base:  "writers through one cat: " + rate(w),
			Note:  fmt.Sprintf("%.2f of the writers through cat (goal ≥ 0.70); every line checked, in order", w.Seconds()/g.Seconds()),
		},
		{
			What:  "throughput against a raw cat of the same bytes",
			Value: benchutil.Round(g).String(),
			Base:  "cat of the files: " + rate(base),
			Note:  fmt.Sprintf("%.2f of raw cat (one process, no writers to start)", base.Seconds()/g.Seconds()),
		},
	}, nil
}

// readBytes runs argv in dir with stdout on a pipe and reads it through the
// same reader ganger's output goes through, until n bytes have come; it
// returns the time from start to the last byte.
func readBytes(dir string, argv []string, n int64, deadline time.Duration) (time.Duration, error) {
	q, err := startProc(dir, argv)
	if err != nil {
		return 0, err
	}
	var got int64
	err = q.readUntil(deadline, func(line []byte) bool {
		got += int64(len(line))
		return got >= n
	})
	elapsed := time.Since(q.started)
	q.kill()
	if err == nil && got != n {
		err = fmt.Errorf("read %d bytes, want %d", got, n)
	}
	return elapsed, err
}

// dataLen is the length of a data line, newline included.
const dataLen = 100

// writeData writes n lines of dataLen bytes for process i: "data I SEQ
// filler".
func writeData(path string, i, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	var total int64
	for seq := range n {
		line = fmt.Appendf(line[:0], "data %d %d ", i, seq)
		for len(line) < dataLen-1 {
			line = append(line, byte('a'+len(line)%26))
		}
		line = append(line, '\n')
		w.Write(line)
		total += int64(len(line))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return total, f.Close()
}

// parseData returns the process and sequence numbers of a data line,
// "data I SEQ ...", or -1, -1. It allocates nothing: the reader checks
// 800,000 lines and must not be what limits the measurement.
func parseData(data []byte) (proc, seq int) {
	rest, ok := bytes.CutPrefix(data, []byte("data "))
	if !ok {
		return -1, -1
	}
	proc, rest = leadingInt(rest)
	if len(rest) == 0 || rest[0] != ' ' {
		return -1, -1
	}
	seq, rest = leadingInt(rest[1:])
	if len(rest) == 0 || rest[0] != ' ' {
		return -1, -1
	}
	return proc, seq
}

// leadingInt parses the decimal digits at the start of b: -1 if there are none.
func leadingInt(b []byte) (int, []byte) {
	n, i := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9' && i < 12; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if i == 0 {
		return -1, b
	}
	return n, b[i:]
}

// manyApp writes the app of the start-up scenarios, -many process types
// (one instance each, as the issue counts them) that each print "first" and
// sleep, and finds a base port with every process's port free.
func (b *bench) manyApp(name string) (dir string, base int, err error) {
	var pf strings.Builder
	for i := 1; i <= b.cfg.many; i++ {
		fmt.Fprintf(&pf, "w%d: echo first; exec sleep 600\n", i)
	}
	if dir, err = b.app(name, pf.String()); err != nil {
		return "", 0, err
	}
	base, err = freePorts(b.cfg.many)
	return dir, base, err
}

// many: N processes each printing one line and sleeping: time until all
// printed, ganger's RSS and idle CPU, then SIGINT to exit.
func (b *bench) many() ([]row, error) {
	c := b.cfg
	dir, base, err := b.manyApp("many")
	if err != nil {
		return nil, err
	}
	var ups, downs, ticks, kills []time.Duration
	var rss, hwm, threads, keeperRSS []int64
	var cpu time.Duration
	var baseUp time.Duration
	for rep := range c.reps {
		p, err := startProc(dir, []string{b.ganger, "start", "--no-timestamp", "-p", strconv.Itoa(base)})
		if err != nil {
			return nil, err
		}
		var pids []int
		n := 0
		err = p.readUntil(c.deadline, func(line []byte) bool {
			if _, pid, ok := bytes.Cut(line, []byte("| started with pid ")); ok {
				if v, err := strconv.Atoi(string(bytes.TrimSpace(pid))); err == nil {
					pids = append(pids, v)
				}
			}
			if bytes.HasSuffix(line, []byte("| first\n")) {
				n++
			}
			return n == c.many
		})
		up := time.Since(p.started)
		if err != nil {
			p.kill()
			return nil, fmt.Errorf("%d processes: %w", c.many, err)
		}
		p.drain()
		ups = append(ups, up)
		// On Linux the ganger started is a keeper; the supervisor is the
		// inner ganger, its child.
		sup := innerGanger(p.cmd.Process.Pid)
		if sup != p.cmd.Process.Pid {
			if v, err := benchutil.Status(p.cmd.Process.Pid, "VmRSS"); err == nil {
				keeperRSS = append(keeperRSS, v)
			}
		}
		for _, f := range []struct {
			key string
			to  *[]int64
		}{{"VmRSS", &rss}, {"VmHWM", &hwm}, {"Threads", &threads}} {
			v, err := benchutil.Status(sup, f.key)
			if err != nil {
				p.kill()
				return nil, err
			}
			*f.to = append(*f.to, v)
		}
		if rep == 0 {
			before, err := benchutil.CPUTime(sup)
			kb, _ := benchutil.CPUTime(p.cmd.Process.Pid)
			if err == nil {
				time.Sleep(c.idle) // the measurement window itself
				var after time.Duration
				after, err = benchutil.CPUTime(sup)
				cpu = after - before
				if sup != p.cmd.Process.Pid {
					ka, _ := benchutil.CPUTime(p.cmd.Process.Pid)
					cpu += ka - kb
				}
			}
			if err != nil {
				p.kill()
				return nil, err
			}
		}
		sent := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			p.kill()
			return nil, fmt.Errorf("SIGINT to ganger: %w", err)
		}
		code, err := p.waitExit(c.deadline)
		if err != nil {
			p.kill()
			return nil, err
		}
		downs = append(downs, p.ended.Sub(sent))
		p.outR.Close()
		if code != 130 {
			return nil, fmt.Errorf("ganger exited with %d after SIGINT, want 130", code)
		}
		if len(pids) != c.many {
			return nil, fmt.Errorf("saw %d started lines, want %d", len(pids), c.many)
		}
		if left := alive(pids); len(left) > 0 {
			return nil, fmt.Errorf("children left running after ganger exited: %v", left)
		}

		// baseline: the same N shell children started directly, in
		// parallel, each printing to the same pipe.
		t, k, err := b.directStart(c.many)
		if err != nil {
			return nil, err
		}
		ticks = append(ticks, t)
		kills = append(kills, k)
	}
	baseUp = benchutil.Median(ticks)
	baseDown := benchutil.Median(kills)
	up, down := benchutil.Median(ups), benchutil.Median(downs)
	return []row{
		{
			What:  fmt.Sprintf("%d process types: start to every first line", c.many),
			Value: benchutil.Round(up).String(),
			Base:  fmt.Sprintf("sh directly: %v", benchutil.Round(baseUp)),
			Note:  fmt.Sprintf("%.2f× (includes ganger's own start, watchdog, port check)", up.Seconds()/baseUp.Seconds()),
		},
		{
			What:  fmt.Sprintf("%d processes: SIGINT to ganger's exit", c.many),
			Value: benchutil.Round(down).String(),
			Base:  fmt.Sprintf("SIGTERM and reap directly: %v", benchutil.Round(baseDown)),
			Note:  fmt.Sprintf("%.2f×, +%v; exit code 130, no child left", down.Seconds()/baseDown.Seconds(), benchutil.Round(down-baseDown)),
		},
		{
			What:  fmt.Sprintf("ganger RSS with %d idle children", c.many),
			Value: fmt.Sprintf("%.1f MiB (peak %.1f MiB)", float64(benchutil.Median(rss))/1024, float64(benchutil.Median(hwm))/1024),
			Base:  "-",
			Note:  fmt.Sprintf("VmRSS and VmHWM of the supervising ganger (watchdog not included; the keeper: %s); %d threads", keeperNote(keeperRSS), benchutil.Median(threads)),
		},
		{
			What:  fmt.Sprintf("ganger idle CPU over %v", c.idle),
			Value: cpu.String(),
			Base:  "-",
			Note:  fmt.Sprintf("%.2f%% of one core (utime+stime, %d Hz ticks)", 100*cpu.Seconds()/c.idle.Seconds(), benchutil.ClkTck),
		},
	}, nil
}

// peersRows: the start-up and SIGINT of the "many" scenario with each
// -peer in ganger's place, each repetition beside a run of ganger, so that
// the tools users come from are measured in the same run. A peer is given
// SIGINT, as a terminal's Ctrl-C would; children still running a second
// after it exited are counted, then killed (they are this program's: they
// run in its app directory).
func (b *bench) peersRows() ([]row, error) {
	c := b.cfg
	if len(c.peers) == 0 {
		return nil, nil
	}
	dir, base, err := b.manyApp("peers")
	if err != nil {
		return nil, err
	}
	ganger := []string{b.ganger, "start", "--no-timestamp", "-p", strconv.Itoa(base)}
	var rows []row
	for _, pr := range c.peers {
		var gUps, gDowns, pUps, pDowns []time.Duration
		left := 0
		for range c.reps {
			up, down, n, err := b.upDown(dir, ganger)
			if err != nil {
				return nil, fmt.Errorf("ganger beside %s: %w", pr.name, err)
			}
			if n > 0 {
				return nil, fmt.Errorf("ganger left %d processes running", n)
			}
			gUps, gDowns = append(gUps, up), append(gDowns, down)
			up, down, n, err = b.upDown(dir, pr.argv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", pr.name, err)
			}
			pUps, pDowns = append(pUps, up), append(pDowns, down)
			left = max(left, n)
		}
		gUp, gDown := benchutil.Median(gUps), benchutil.Median(gDowns)
		pUp, pDown := benchutil.Median(pUps), benchutil.Median(pDowns)
		rows = append(rows,
			row{
				What:  fmt.Sprintf("%d process types, beside %s: start to every first line", c.many, pr.name),
				Value: benchutil.Round(gUp).String(),
				Base:  fmt.Sprintf("%s: %v", pr.name, benchutil.Round(pUp)),
				Note:  fmt.Sprintf("%.2f of %s's time", gUp.Seconds()/pUp.Seconds(), pr.name),
			},
			row{
				What:  fmt.Sprintf("%d processes, beside %s: SIGINT to exit", c.many, pr.name),
				Value: benchutil.Round(gDown).String(),
				Base:  fmt.Sprintf("%s: %v", pr.name, benchutil.Round(pDown)),
				Note:  fmt.Sprintf("%.2f of %s's time; %s left %d running a second later (most in one run), ganger none", gDown.Seconds()/pDown.Seconds(), pr.name, pr.name, left),
			})
	}
	return rows, nil
}

// upDown starts argv in dir, waits for c.many "first" lines, sends SIGINT
// and waits for it to exit. It returns both times and how many processes
// still run in dir a second later, which it then kills.
func (b *bench) upDown(dir string, argv []string) (up, down time.Duration, left int, err error) {
	c := b.cfg
	p, err := startProc(dir, argv)
	if err != nil {
		return 0, 0, 0, err
	}
	n := 0
	err = p.readUntil(c.deadline, func(line []byte) bool {
		if bytes.HasSuffix(line, []byte("first\n")) {
			n++
		}
		return n == c.many
	})
	up = time.Since(p.started)
	if err != nil {
		p.kill()
		killIn(dir)
		return 0, 0, 0, err
	}
	p.drain()
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		p.kill()
		killIn(dir)
		return 0, 0, 0, err
	}
	if _, err := p.waitExit(c.deadline); err != nil {
		p.kill()
		killIn(dir)
		return 0, 0, 0, err
	}
	down = p.ended.Sub(sent)
	p.outR.Close()
	time.Sleep(time.Second) // the window a peer's orphans get to exit on their own
	return up, down, killIn(dir), nil
}

// killIn sends SIGKILL to every process whose working directory is dir (an
// app directory this program made), and returns how many there were.
func killIn(dir string) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd == dir && len(alive([]int{pid})) == 1 {
			syscall.Kill(pid, syscall.SIGKILL)
			n++
		}
	}
	return n
}

// directStart is the baseline for start-up and shutdown: n "sh -c 'echo
// first; exec sleep 600'", each in its own process group as ganger starts
// them, started from here; it returns the time until all printed, and the
// time from SIGTERM to each group until all are reaped.
func (b *bench) directStart(n int) (up, down time.Duration, err error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, 0, err
	}
	defer pr.Close()
	start := time.Now()
	var cmds []*exec.Cmd
	defer func() {
		for _, c := range cmds {
			if c.ProcessState == nil {
				c.Process.Kill()
				c.Wait()
			}
		}
	}()
	for range n {
		c := exec.Command("/bin/sh", "-c", "echo first; exec sleep 600")
		c.Stdout = pw
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			pw.Close()
			return 0, 0, err
		}
		cmds = append(cmds, c)
	}
	pw.Close()
	r := bufio.NewReader(pr)
	for seen := 0; seen < n; {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, 0, fmt.Errorf("direct start: %w", err)
		}
		if line == "first\n" {
			seen++
		}
	}
	up = time.Since(start)
	sent := time.Now()
	for _, c := range cmds {
		syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
	}
	for _, c := range cmds {
		c.Wait()
	}
	return up, time.Since(sent), nil
}

// graceExcess: a child that ignores SIGTERM under -t N: SIGINT to exit
// should take N seconds; the excess is what ganger adds.
func (b *bench) graceExcess() ([]row, error) {
	c := b.cfg
	dir, err := b.app("grace", "stubborn: trap '' TERM; echo ready; exec sleep 600\nweb: echo ready; exec sleep 600\n")
	if err != nil {
		return nil, err
	}
	var times []time.Duration
	for range c.reps {
		p, err := startProc(dir, []string{b.ganger, "start", "--no-timestamp", "--no-port-check", "-t", strconv.Itoa(c.grace)})
		if err != nil {
			return nil, err
		}
		n := 0
		err = p.readUntil(c.deadline, func(line []byte) bool {
			if bytes.HasSuffix(line, []byte("| ready\n")) {
				n++
			}
			return n == 2
		})
		if err != nil {
			p.kill()
			return nil, fmt.Errorf("grace: %w", err)
		}
		p.drain()
		sent := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			p.kill()
			return nil, fmt.Errorf("SIGINT to ganger: %w", err)
		}
		code, err := p.waitExit(c.deadline)
		if err != nil {
			p.kill()
			return nil, err
		}
		p.outR.Close()
		if code != 130 {
			return nil, fmt.Errorf("ganger exited with %d after SIGINT, want 130", code)
		}
		times = append(times, p.ended.Sub(sent))
	}
	t := benchutil.Median(times)
	g := time.Duration(c.grace) * time.Second
	return []row{{
		What:  fmt.Sprintf("-t %d, child ignoring SIGTERM: SIGINT to exit", c.grace),
		Value: benchutil.Round(t).String(),
		Base:  fmt.Sprintf("grace: %v", g),
		Note:  fmt.Sprintf("excess %v", benchutil.Round(t-g)),
	}}, nil
}

// freePorts finds a base port from which the ports of n process types
// (base, base+100, ...) are free, so that ganger's port check passes without
// being switched off.
func freePorts(n int) (int, error) {
	for base := 10000; base+100*n < 65536; base += 7 {
		ok := true
		var lns []net.Listener
		for i := range n {
			ln, err := net.Listen("tcp", ":"+strconv.Itoa(base+100*i))
			if err != nil {
				ok = false
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no base port found with %d free ports 100 apart", n)
}

// alive returns the pids that still run (zombies count as gone).
func alive(pids []int) []int {
	var out []int
	for _, pid := range pids {
		if pid <= 1 || syscall.Kill(pid, 0) != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 && f[0] != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// innerGanger is the child of keeper named ganger: the inner ganger that
// supervises, when ganger runs as a keeper and an inner; else keeper.
func innerGanger(keeper int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", keeper, keeper))
	if err != nil {
		return keeper
	}
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(comm)) == "ganger" {
			return pid
		}
	}
	return keeper
}

// keeperNote says what the keeper holds, or that there was none.
func keeperNote(rss []int64) string {
	if len(rss) == 0 {
		return "none"
	}
	return fmt.Sprintf("VmRSS %.1f MiB, most of it the binary's pages shared with the inner", float64(benchutil.Median(rss))/1024)
}
