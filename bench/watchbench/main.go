// Command watchbench measures "ganger start --watch" as a user meets it, on
// a big app: how long the watch takes to set up, what it costs in memory and
// idle CPU, how long a save takes to become a restarted process, and whether
// a burst of changes restarts the process exactly once. Every figure is shown
// beside a baseline measured in the same run, on the same machine.
//
// It builds ganger from the module it is run in, generates an app of -files
// files in -dirs directories (on /dev/shm when it exists) with a Procfile
// whose process is "sh -c 'echo up; exec sleep 600'", and drives the real
// binary from outside through a pipe. Linux only (it reads /proc). Run it
// from the repository:
//
//	go run ./bench/watchbench
//	go run ./bench/watchbench -files 20000 -dirs 2000 -saves 10 -idle 5s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/gangerdev/ganger/bench/internal/benchutil"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "watchbench:", err)
		os.Exit(1)
	}
}

// config holds the flags.
type config struct {
	files    int           // files in the generated tree
	dirs     int           // directories in the generated tree
	saves    int           // saves timed for the latency figure
	burst    int           // files changed at once
	reps     int           // repetitions of the set-up figures
	debounce time.Duration // the short debounce, beside the default
	idle     time.Duration // idle CPU window
	deadline time.Duration // longest wait for anything
	dir      string        // parent of the generated trees
}

// defaultDebounce is ganger's when neither --debounce nor ganger.yml says
// otherwise (runner/watch.DefaultDebounce).
const defaultDebounce = 200 * time.Millisecond

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var c config
	fs := flag.NewFlagSet("watchbench", flag.ContinueOnError)
	fs.IntVar(&c.files, "files", 100000, "`N` files in the generated tree")
	fs.IntVar(&c.dirs, "dirs", 10000, "`N` directories in the generated tree")
	fs.IntVar(&c.saves, "saves", 20, "`N` saves timed for the save-to-restart latency (the median is shown)")
	fs.IntVar(&c.burst, "burst", 1000, "`N` files changed within 100 ms for the coalescing check")
	fs.IntVar(&c.reps, "reps", 3, "repeat each set-up measurement `N` times; the median is shown")
	fs.DurationVar(&c.debounce, "debounce", 50*time.Millisecond, "the short --debounce `D`, measured beside the default 200ms")
	fs.DurationVar(&c.idle, "idle", 10*time.Second, "idle CPU measured over `D`")
	fs.DurationVar(&c.deadline, "deadline", 2*time.Minute, "give up on any step after `D`")
	fs.StringVar(&c.dir, "dir", defaultTreeDir(), "build the trees under `DIR` (default /dev/shm when it exists, else the temp dir)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case c.reps < 1 || c.saves < 1 || c.dirs < 1:
		return errors.New("-reps, -saves and -dirs must be at least 1")
	case c.files < c.dirs:
		return errors.New("-files must be at least -dirs (every directory holds a file)")
	case c.burst < 1 || c.burst > c.files:
		return errors.New("-burst must be between 1 and -files")
	case c.debounce <= 0 || c.idle <= 0 || c.deadline <= 0:
		return errors.New("-debounce, -idle and -deadline must be positive")
	}

	// The binary goes to the ordinary temp dir: /dev/shm may be noexec.
	bin, err := os.MkdirTemp("", "watchbench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	tmp, err := os.MkdirTemp(c.dir, "watchbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b := &bench{cfg: c, ctx: ctx, tmp: tmp}
	fmt.Fprintln(stdout, "building ganger ...")
	if b.ganger, err = benchutil.Build(bin, "watchbench"); err != nil {
		return err
	}

	began := time.Now()
	plain := filepath.Join(tmp, "app")
	withModules := filepath.Join(tmp, "app-node_modules")
	files, err := b.app(plain, false)
	if err != nil {
		return err
	}
	if _, err := b.app(withModules, true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %d files in %d directories under %s in %v\n", 3*c.files, 3*c.dirs, tmp, benchutil.Round(time.Since(began)))

	return benchutil.Table(stdout,
		func() ([]row, error) {
			return b.setup(plain, fmt.Sprintf("%s files, %s dirs", count(c.files), count(c.dirs)))
		},
		func() ([]row, error) { return b.setup(withModules, "+ ignored node_modules of the same size") },
		func() ([]row, error) { return b.saves(plain, files, defaultDebounce) },
		func() ([]row, error) { return b.saves(plain, files, c.debounce) },
	)
}

type row = benchutil.Row

type bench struct {
	cfg    config
	ctx    context.Context
	tmp    string
	ganger string
}

func defaultTreeDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

// procName is the Procfile's one process type. Not "web": ganger would
// treat it as ready only once its PORT accepts connections.
const procName = "app"

// app generates the tree and a Procfile at root, and with modules an
// ignored node_modules holding a tree of the same size. It returns the
// tree's files, relative to root.
func (b *bench) app(root string, modules bool) ([]string, error) {
	files, err := buildTree(root, b.cfg.files, b.cfg.dirs)
	if err != nil {
		return nil, err
	}
	if modules {
		if _, err := buildTree(filepath.Join(root, "node_modules"), b.cfg.files, b.cfg.dirs); err != nil {
			return nil, err
		}
	}
	pf := procName + ": echo up; exec sleep 600\n"
	return files, os.WriteFile(filepath.Join(root, "Procfile"), []byte(pf), 0o644)
}

// buildTree makes dirs directories under root, about √dirs at the top each
// holding the same number of subdirectories, and spreads files evenly over
// them. It returns the files, relative to root.
func buildTree(root string, files, dirs int) ([]string, error) {
	top := int(math.Ceil(math.Sqrt(float64(dirs))))
	per := (dirs + top - 1) / top // directories per top-level one, itself included
	var paths []string
	for i := range dirs {
		t, s := i/per, i%per
		rel := fmt.Sprintf("pkg%03d", t)
		if s > 0 {
			rel = fmt.Sprintf("pkg%03d/mod%03d", t, s-1)
		}
		if err := os.MkdirAll(filepath.Join(root, rel), 0o755); err != nil {
			return nil, err
		}
		n := files / dirs
		if i < files%dirs {
			n++
		}
		for k := range n {
			f := fmt.Sprintf("%s/file%d.go", rel, k)
			if err := os.WriteFile(filepath.Join(root, f), []byte("package p\n"), 0o644); err != nil {
				return nil, err
			}
			paths = append(paths, f)
		}
	}
	return paths, nil
}

// walk lists every directory under root as a watcher must (os.ReadDir,
// node_modules skipped), the baseline for the set-up time.
func walk(root string) (int, error) {
	n := 0
	stack := []string{root}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		entries, err := os.ReadDir(dir)
		if err != nil {
			return 0, err
		}
		for _, e := range entries {
			if e.IsDir() && e.Name() != "node_modules" {
				stack = append(stack, filepath.Join(dir, e.Name()))
			}
		}
	}
	return n, nil
}

// setup measures, -reps times, ganger with -w against ganger without it on
// the same app: start to the "watching" line, ganger's own figure, start to
// the child's first line, RSS, and (once) idle CPU.
func (b *bench) setup(app, label string) ([]row, error) {
	c := b.cfg
	var toLine, reported, toUpW, toUp, walks []time.Duration
	var rssW, rss []int64
	var cpuW, cpu time.Duration
	var watches, dirs int
	for rep := range c.reps {
		// with --watch
		g, err := b.start(app, "-w")
		if err != nil {
			return nil, err
		}
		l, err := g.next(func(name, msg string) bool { return name == "system" && strings.HasPrefix(msg, "watching ") })
		if err != nil {
			g.kill()
			return nil, err
		}
		toLine = append(toLine, l.at.Sub(g.started))
		m := setUpRe.FindStringSubmatch(l.text)
		if m == nil {
			g.kill()
			return nil, fmt.Errorf("no set-up figure in %q", l.text)
		}
		ms, _ := strconv.ParseFloat(m[1], 64)
		reported = append(reported, time.Duration(ms*float64(time.Millisecond)))
		up, err := g.up()
		if err != nil {
			g.kill()
			return nil, err
		}
		toUpW = append(toUpW, up.at.Sub(g.started))
		r, err := benchutil.VMRSS(g.pid())
		if err == nil {
			rssW = append(rssW, r)
			watches, err = inotifyWatches(g.pid())
		}
		if err == nil && rep == 0 {
			cpuW, err = idleCPU(g.pid(), c.idle)
		}
		if err != nil {
			g.kill()
			return nil, err
		}
		if err := g.stop(); err != nil {
			return nil, err
		}

		// without --watch, same app
		g, err = b.start(app)
		if err != nil {
			return nil, err
		}
		up, err = g.up()
		if err != nil {
			g.kill()
			return nil, err
		}
		toUp = append(toUp, up.at.Sub(g.started))
		r, err = benchutil.VMRSS(g.pid())
		if err == nil {
			rss = append(rss, r)
			if rep == 0 {
				cpu, err = idleCPU(g.pid(), c.idle)
			}
		}
		if err != nil {
			g.kill()
			return nil, err
		}
		if err := g.stop(); err != nil {
			return nil, err
		}

		// the walk alone
		began := time.Now()
		if dirs, err = walk(app); err != nil {
			return nil, err
		}
		walks = append(walks, time.Since(began))
	}
	line, rep, w := benchutil.Median(toLine), benchutil.Median(reported), benchutil.Median(walks)
	upW, up := benchutil.Median(toUpW), benchutil.Median(toUp)
	mw, m := float64(benchutil.Median(rssW))/1024, float64(benchutil.Median(rss))/1024
	return []row{
		{
			What:  label + ": start to \"watching\" line",
			Value: benchutil.Round(line).String(),
			Base:  fmt.Sprintf("ReadDir walk: %v", benchutil.Round(w)),
			Note:  fmt.Sprintf("%.1f× the walk; goal < 1s: %s", line.Seconds()/w.Seconds(), met(line < time.Second)),
		},
		{
			What:  label + ": ganger's \"set up in\"",
			Value: benchutil.Round(rep).String(),
			Base:  fmt.Sprintf("ReadDir walk: %v", benchutil.Round(w)),
			Note:  fmt.Sprintf("%.1f× the walk (%d dirs walked); %d inotify watches", rep.Seconds()/w.Seconds(), dirs, watches),
		},
		{
			What:  label + ": start to child's first line",
			Value: benchutil.Round(upW).String(),
			Base:  fmt.Sprintf("without -w: %v", benchutil.Round(up)),
			Note:  fmt.Sprintf("-w adds %v to the start", benchutil.Round(upW-up)),
		},
		{
			What:  label + ": ganger RSS",
			Value: fmt.Sprintf("%.1f MiB", mw),
			Base:  fmt.Sprintf("without -w: %.1f MiB", m),
			Note:  fmt.Sprintf("+%.1f MiB for the watch (VmRSS; the kernel's inotify memory is not in it)", mw-m),
		},
		{
			What:  fmt.Sprintf("%s: ganger idle CPU over %v", label, c.idle),
			Value: cpuW.String(),
			Base:  fmt.Sprintf("without -w: %v", cpu),
			Note:  fmt.Sprintf("%.2f%% of one core (utime+stime, %d Hz ticks); goal ≤ 0.1%%: %s", 100*cpuW.Seconds()/c.idle.Seconds(), benchutil.ClkTck, met(1000*cpuW <= c.idle)),
		},
	}, nil
}

var (
	setUpRe   = regexp.MustCompile(`\(set up in ([0-9.]+)ms\)`)
	restartRe = regexp.MustCompile(`^restarting ` + procName + `\.1: (\S+)(?: and (\d+) more)? changed$`)
)

// saves starts ganger -w with debounce d on app, times -saves saves of one
// file, each to the new process's first line, then changes -burst files
// within 100 ms and counts the restarts.
func (b *bench) saves(app string, files []string, d time.Duration) ([]row, error) {
	c := b.cfg
	var flags []string
	flagName := "default"
	if d != defaultDebounce {
		flags = []string{"--debounce", d.String()}
		flagName = "--debounce " + d.String()
	}
	g, err := b.start(app, append([]string{"-w"}, flags...)...)
	if err != nil {
		return nil, err
	}
	if _, err := g.up(); err != nil {
		g.kill()
		return nil, err
	}
	saved := files[len(files)/2]
	var lats, seen []time.Duration
	for i := range c.saves {
		time.Sleep(100 * time.Millisecond) // let the previous restart settle
		t0 := time.Now()
		if err := os.WriteFile(filepath.Join(app, saved), fmt.Appendf(nil, "package p // save %d\n", i), 0o644); err != nil {
			g.kill()
			return nil, err
		}
		r, err := g.next(func(name, msg string) bool { return name == "system" && strings.HasPrefix(msg, "restarting ") })
		if err != nil {
			g.kill()
			return nil, err
		}
		if m := restartRe.FindStringSubmatch(r.msg()); m == nil || m[1] != saved || m[2] != "" {
			g.kill()
			return nil, fmt.Errorf("save %d of %s: got %q, want a restart for %s alone", i+1, saved, r.text, saved)
		}
		up, err := g.up()
		if err != nil {
			g.kill()
			return nil, err
		}
		seen = append(seen, r.at.Sub(t0))
		lats = append(lats, up.at.Sub(t0))
	}
	extra, err := g.quiet(3*d + 500*time.Millisecond)
	if err != nil {
		g.kill()
		return nil, err
	}
	if extra.restarts > 0 {
		g.kill()
		return nil, fmt.Errorf("%d saves with %s debounce: %d restarts more than saves", c.saves, flagName, extra.restarts)
	}

	// The burst: c.burst files spread over the tree, written in 10 waves
	// 8 ms apart, so that changes keep arriving for most of 100 ms with
	// room left for a busy machine.
	step := max(1, len(files)/c.burst)
	t0 := time.Now()
	for i := range c.burst {
		if wave := i * 10 / c.burst; i%max(1, c.burst/10) == 0 && wave > 0 {
			time.Sleep(time.Until(t0.Add(time.Duration(wave) * 8 * time.Millisecond)))
		}
		f := files[(i*step)%len(files)]
		if err := os.WriteFile(filepath.Join(app, f), []byte("package p // burst\n"), 0o644); err != nil {
			g.kill()
			return nil, err
		}
	}
	t1 := time.Now()
	r, err := g.next(func(name, msg string) bool { return name == "system" && strings.HasPrefix(msg, "restarting ") })
	if err != nil {
		g.kill()
		return nil, err
	}
	paths := 0
	if m := restartRe.FindStringSubmatch(r.msg()); m != nil {
		paths = 1
		if m[2] != "" {
			n, _ := strconv.Atoi(m[2])
			paths += n
		}
	}
	up, err := g.up()
	if err != nil {
		g.kill()
		return nil, err
	}
	after, err := g.quiet(3*d + time.Second)
	if err != nil {
		g.kill()
		return nil, err
	}
	if err := g.stop(); err != nil {
		return nil, err
	}
	restarts, starts := 1+after.restarts, 1+after.starts
	span := t1.Sub(t0)
	burstNote := ""
	if span > 100*time.Millisecond {
		burstNote = " (the writes took over 100 ms: the machine was busy)"
	}

	lat, det := benchutil.Median(lats), benchutil.Median(seen)
	excess := lat - d
	return []row{
		{
			What:  fmt.Sprintf("save to new process up, median of %d (%s)", c.saves, flagName),
			Value: benchutil.Round(lat).String(),
			Base:  fmt.Sprintf("debounce: %v", d),
			Note: fmt.Sprintf("excess %v (goal ≤ +50ms: %s); \"restarting\" after %v; min %v, max %v",
				benchutil.Round(excess), met(excess <= 50*time.Millisecond), benchutil.Round(det), benchutil.Round(slices.Min(lats)), benchutil.Round(slices.Max(lats))),
		},
		{
			What:  fmt.Sprintf("%d files changed in %v (%s)", c.burst, benchutil.Round(span), flagName),
			Value: fmt.Sprintf("%d restart, %d start", restarts, starts),
			Base:  "want 1 and 1",
			Note: fmt.Sprintf("%s; the restart named %d paths; last write to up %v%s",
				met(restarts == 1 && starts == 1 && paths == c.burst), paths, benchutil.Round(up.at.Sub(t1)), burstNote),
		},
	}, nil
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// idleCPU is pid's utime+stime over d.
func idleCPU(pid int, d time.Duration) (time.Duration, error) {
	before, err := cpuTime(pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(d) // the measurement window itself
	after, err := cpuTime(pid)
	return after - before, err
}

func count(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}
