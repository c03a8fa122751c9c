// Command detachbench measures "run and forget" as a user meets it: how
// soon "ganger start -D" returns once its formation is ready, how long a
// line takes from a process to "ganger logs -f", the detached start's
// memory beside a foreground start's, and the round trip of a key through
// "ganger attach". Figures, not tests: nothing here asserts a time.
//
// It builds ganger from the module it is run in; the processes are this
// program itself (see child.go) and cat. Linux only (it reads /proc). Run
// it from the repository:
//
//	go run ./bench/detachbench
//	go run ./bench/detachbench -starts 40 -lines 500 -keys 500
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/gangerdev/ganger/bench/internal/benchutil"
)

func main() {
	if childMain() {
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "detachbench:", err)
		os.Exit(1)
	}
}

type bench struct {
	ganger   string // the binary
	self     string // this program, the processes
	tmp      string
	env      []string
	deadline time.Duration
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("detachbench", flag.ContinueOnError)
	starts := fs.Int("starts", 20, "start -D runs for the return time")
	lines := fs.Int("lines", 200, "lines timed through logs -f")
	keys := fs.Int("keys", 200, "keys timed through attach")
	reps := fs.Int("reps", 3, "repetitions of the RSS figures; the median is shown")
	deadline := fs.Duration("deadline", 2*time.Minute, "give up on any step after this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "detachbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := benchutil.Build(tmp, "detachbench")
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b := &bench{ganger: bin, self: self, tmp: tmp, deadline: *deadline,
		env: append(benchutil.Env(), "GANGER_NO_PORT_CHECK=1", "TERM=dumb", "XDG_RUNTIME_DIR=", "TMPDIR="+tmp)}
	return benchutil.Table(stdout,
		func() ([]benchutil.Row, error) { return b.startReturn(*starts) },
		func() ([]benchutil.Row, error) { return b.logsLatency(*lines) },
		func() ([]benchutil.Row, error) { return b.rss(*reps) },
		func() ([]benchutil.Row, error) { return b.attachRoundTrip(*keys) },
	)
}

// app makes an app root named name with these files.
func (b *bench) app(name string, files map[string]string) (string, error) {
	dir := filepath.Join(b.tmp, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for f, text := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func (b *bench) cmd(dir string, args ...string) *exec.Cmd {
	c := exec.Command(b.ganger, args...)
	c.Dir, c.Env = dir, b.env
	return c
}

// startD runs ganger start -D in dir and returns its stderr and the
// moment it returned.
func (b *bench) startD(dir string, args ...string) (string, time.Time, error) {
	c := b.cmd(dir, append([]string{"start", "-D"}, args...)...)
	var errOut bytes.Buffer
	c.Stderr = &errOut
	err := c.Run()
	at := time.Now()
	if err != nil {
		return errOut.String(), at, fmt.Errorf("start -D: %w\n%s", err, errOut.String())
	}
	return errOut.String(), at, nil
}

func (b *bench) quit(dir string) error {
	if out, err := b.cmd(dir, "quit").CombinedOutput(); err != nil {
		return fmt.Errorf("quit: %w\n%s", err, out)
	}
	return nil
}

// freePort is a port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startReturn: web listens on its PORT and writes the time it did to a
// file; start -D's return is compared with it. ganger sees web ready when
// its probe (every 20 ms) connects.
func (b *bench) startReturn(n int) ([]benchutil.Row, error) {
	dir, err := b.app("start", map[string]string{
		"Procfile": fmt.Sprintf("web: %s listen ready.at\nworker: %s idle\n", b.self, b.self),
	})
	if err != nil {
		return nil, err
	}
	var after []time.Duration
	for range n {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		os.Remove(filepath.Join(dir, "ready.at"))
		_, back, err := b.startD(dir, "-p", strconv.Itoa(port))
		if err != nil {
			return nil, err
		}
		ready, err := readTime(filepath.Join(dir, "ready.at"))
		if err != nil {
			return nil, err
		}
		after = append(after, back.Sub(ready))
		if err := b.quit(dir); err != nil {
			return nil, err
		}
	}
	return []benchutil.Row{{
		What:  fmt.Sprintf("start -D: return after web listens (median of %d)", n),
		Value: benchutil.Round(benchutil.Median(after)).String(),
		Base:  "-",
		Note:  fmt.Sprintf("p90 %s; includes the 20 ms port probe's wait; goal 50 ms", benchutil.Round(p90(after))),
	}}, nil
}

func readTime(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Unix(0, ns), err
}

func p90(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*9/10]
}

// logsLatency: the process writes a line holding the time on each byte
// sent to its FIFO; logs -f --json reads it.
func (b *bench) logsLatency(n int) ([]benchutil.Row, error) {
	dir, err := b.app("logs", map[string]string{
		"Procfile": fmt.Sprintf("ticker: %s tick tick.fifo\n", b.self),
	})
	if err != nil {
		return nil, err
	}
	fifo := filepath.Join(dir, "tick.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	if _, _, err := b.startD(dir); err != nil {
		return nil, err
	}
	defer b.quit(dir)
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	f := b.cmd(dir, "logs", "-f", "-n", "0", "--json", "ticker")
	out, err := f.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := f.Start(); err != nil {
		return nil, err
	}
	defer func() { f.Process.Signal(syscall.SIGINT); f.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var r struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				lines <- r.Text
			}
		}
		close(lines)
	}()
	// Until the follower is attached, a line may come before it: tick
	// until one arrives.
	for warm := false; !warm; {
		w.Write([]byte{1})
		select {
		case <-lines:
			warm = true
		case <-time.After(200 * time.Millisecond):
		}
	}
	var lat []time.Duration
	for range n {
		if _, err := w.Write([]byte{1}); err != nil {
			return nil, err
		}
		select {
		case text, ok := <-lines:
			if !ok {
				return nil, errors.New("logs -f ended")
			}
			ns, err := strconv.ParseInt(strings.TrimPrefix(text, "tick "), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("line %q: %w", text, err)
			}
			lat = append(lat, time.Since(time.Unix(0, ns)))
		case <-time.After(b.deadline):
			return nil, errors.New("no line within the deadline")
		}
	}
	return []benchutil.Row{{
		What:  fmt.Sprintf("logs -f: a line from write to read (median of %d)", n),
		Value: benchutil.Round(benchutil.Median(lat)).String(),
		Base:  "-",
		Note:  fmt.Sprintf("p90 %s; process -> ganger -> socket -> logs -> pipe; goal 10 ms", benchutil.Round(p90(lat))),
	}}, nil
}

// rss compares the detached start's keeper and inner with a foreground
// start's, same formation (5 idle processes), once both answer ps.
func (b *bench) rss(reps int) ([]benchutil.Row, error) {
	var procfile strings.Builder
	for i := range 5 {
		fmt.Fprintf(&procfile, "p%d: %s idle\n", i, b.self)
	}
	dir, err := b.app("rss", map[string]string{"Procfile": procfile.String()})
	if err != nil {
		return nil, err
	}
	var det, fg []int64
	for range reps {
		stderr, _, err := b.startD(dir)
		if err != nil {
			return nil, err
		}
		m := regexp.MustCompile(`running in the background \(pid ([0-9]+)\)`).FindStringSubmatch(stderr)
		if m == nil {
			b.quit(dir)
			return nil, fmt.Errorf("start -D named no pid:\n%s", stderr)
		}
		keeper, _ := strconv.Atoi(m[1])
		kb, err := b.pairRSS(dir, keeper)
		b.quit(dir)
		if err != nil {
			return nil, err
		}
		det = append(det, kb)

		c := b.cmd(dir, "start")
		out, err := c.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := c.Start(); err != nil {
			return nil, err
		}
		go io.Copy(io.Discard, out)
		if err := b.waitPS(dir, 5); err != nil {
			c.Process.Kill()
			c.Wait()
			return nil, err
		}
		kb, err = b.pairRSS(dir, c.Process.Pid)
		c.Process.Signal(syscall.SIGINT)
		c.Wait()
		if err != nil {
			return nil, err
		}
		fg = append(fg, kb)
	}
	d, f := benchutil.Median(det), benchutil.Median(fg)
	return []benchutil.Row{{
		What:  "RSS, keeper + inner, 5 idle processes",
		Value: fmt.Sprintf("%.1f MiB detached", float64(d)/1024),
		Base:  fmt.Sprintf("%.1f MiB foreground", float64(f)/1024),
		Note:  fmt.Sprintf("%+.2f MiB; watchdog not counted; goal within 2 MiB", float64(d-f)/1024),
	}}, nil
}

// waitPS waits until ganger ps lists n running processes.
func (b *bench) waitPS(dir string, n int) error {
	end := time.Now().Add(b.deadline)
	for time.Now().Before(end) {
		out, err := b.cmd(dir, "ps").Output()
		if err == nil && strings.Count(string(out), " running ") == n {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("the start never answered ps with every process running")
}

// pairRSS is the VmRSS of keeper plus that of the inner ganger, which
// holds the app's lock, in KiB.
func (b *bench) pairRSS(dir string, keeper int) (int64, error) {
	lock, err := os.ReadFile(filepath.Join(dir, ".ganger", "start.lock"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(lock), "\n")
	inner, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, err
	}
	if inner == keeper {
		return 0, fmt.Errorf("pid %d holds the lock itself: no keeper", keeper)
	}
	k, err := benchutil.VMRSS(keeper)
	if err != nil {
		return 0, err
	}
	i, err := benchutil.VMRSS(inner)
	return k + i, err
}

// attachRoundTrip: ganger attach cat.1 on a pseudo-terminal; a key typed
// comes back as the echo of cat's terminal.
func (b *bench) attachRoundTrip(n int) ([]benchutil.Row, error) {
	dir, err := b.app("attach", map[string]string{
		"Procfile":   "cat: cat\n",
		"ganger.yml": "processes:\n  cat:\n    tty: true\n",
	})
	if err != nil {
		return nil, err
	}
	if _, _, err := b.startD(dir); err != nil {
		return nil, err
	}
	defer b.quit(dir)
	m, s, err := pty.Open()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	defer s.Close()
	pty.Setsize(m, &pty.Winsize{Cols: 80, Rows: 24})
	c := b.cmd(dir, "attach", "cat.1")
	c.Stdin, c.Stdout, c.Stderr = s, s, s
	if err := c.Start(); err != nil {
		return nil, err
	}
	defer c.Wait()
	// Raw once ICANON is off: before, the key would be echoed here.
	for end := time.Now().Add(b.deadline); ; {
		t, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
		if err != nil {
			return nil, err
		}
		if t.Lflag&unix.ICANON == 0 {
			break
		}
		if time.Now().After(end) {
			return nil, errors.New("attach never put its terminal in raw mode")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := make(chan byte, 64)
	go func() {
		p := make([]byte, 256)
		for {
			k, err := m.Read(p)
			for _, c := range p[:k] {
				got <- c
			}
			if err != nil {
				close(got)
				return
			}
		}
	}()
	var rt []time.Duration
	for range n {
		t0 := time.Now()
		if _, err := m.Write([]byte{'x'}); err != nil {
			return nil, err
		}
		for done := false; !done; {
			select {
			case c, ok := <-got:
				if !ok {
					return nil, errors.New("attach ended")
				}
				done = c == 'x'
			case <-time.After(b.deadline):
				return nil, errors.New("no echo within the deadline")
			}
		}
		rt = append(rt, time.Since(t0))
	}
	m.Write([]byte{0x1d}) // Ctrl-]
	return []benchutil.Row{{
		What:  fmt.Sprintf("attach: key to echo (median of %d)", n),
		Value: benchutil.Round(benchutil.Median(rt)).String(),
		Base:  "-",
		Note:  fmt.Sprintf("p90 %s; pty -> attach -> socket -> ganger -> cat's pty and back; goal 5 ms", benchutil.Round(p90(rt))),
	}}, nil
}
