// Command routerbench measures the router of "ganger start --router"
// against the same backend reached directly, through caddy's
// reverse_proxy and through nginx (upstream keepalive, one worker): the
// same backend process, the same client (wrk, keep-alive), the same run.
// It then restarts web 20 times under load (preboot) and counts the
// requests that failed.
//
// It builds ganger from the module it is run in and the backend, a
// net/http hello server (bench/routerbench/hello), and needs wrk, caddy and
// nginx (apt-get update && apt-get install -y caddy nginx wrk). Linux only.
// Run it from the repository:
//
//	go run ./bench/routerbench
//	go run ./bench/routerbench -c 50 -d 10s -reps 3
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gangerdev/ganger/bench/internal/benchutil"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "routerbench:", err)
		os.Exit(1)
	}
}

// config holds the flags.
type config struct {
	conns    int           // throughput: wrk connections
	threads  int           // wrk threads
	dur      time.Duration // throughput: each run
	latDur   time.Duration // latency (one connection): each run
	reps     int           // repetitions, interleaved; the median is shown
	reloads  int           // preboot: restarts of web under load
	deadline time.Duration // longest wait for anything
}

func run(args []string, stdout io.Writer) error {
	var c config
	fs := flag.NewFlagSet("routerbench", flag.ContinueOnError)
	fs.IntVar(&c.conns, "c", 50, "throughput: `N` keep-alive connections")
	fs.IntVar(&c.threads, "t", 1, "wrk threads (the proxy and the backend need the other core)")
	fs.DurationVar(&c.dur, "d", 10*time.Second, "throughput: each run lasts `D`")
	fs.DurationVar(&c.latDur, "ld", 5*time.Second, "latency over one connection: each run lasts `D`")
	fs.IntVar(&c.reps, "reps", 1, "run each measurement `N` times, interleaved; the median is shown")
	fs.IntVar(&c.reloads, "reloads", 20, "preboot: `N` restarts of web under load")
	fs.DurationVar(&c.deadline, "deadline", 2*time.Minute, "give up on any step after `D`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.reps < 1 || c.conns < 1 || c.threads < 1 {
		return errors.New("-reps, -c and -t must be at least 1")
	}
	tools := map[string]string{}
	for _, name := range []string{"wrk", "caddy", "nginx"} {
		p, err := lookTool(name)
		if err != nil {
			return fmt.Errorf("%s not found (%w); install the references with: apt-get update && apt-get install -y caddy nginx wrk", name, err)
		}
		tools[name] = p
	}
	tmp, err := os.MkdirTemp("", "routerbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b := &bench{cfg: c, tmp: tmp, tools: tools}
	fmt.Fprintln(stdout, "building ganger and the backend ...")
	if err := b.build(); err != nil {
		return err
	}
	defer b.stopAll()
	if err := b.startAll(stdout); err != nil {
		return err
	}
	return b.measure(stdout)
}

// lookTool finds a program on PATH or in /usr/sbin (nginx, for a user
// whose PATH lacks it).
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return exec.LookPath(filepath.Join("/usr/sbin", name))
}

type bench struct {
	cfg    config
	tmp    string
	tools  map[string]string
	ganger string
	hello  string

	base    int // ganger's router; web.1 on base+1
	caddyP  int
	nginxP  int
	gcmd    *exec.Cmd
	gout    *output
	others  []*exec.Cmd // caddy, nginx
	appDir  string
	stopped bool
}

// build compiles ganger and the backend.
func (b *bench) build() error {
	bin, err := benchutil.Build(b.tmp, "routerbench")
	if err != nil {
		return err
	}
	b.ganger = bin
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	b.hello = filepath.Join(b.tmp, "hello")
	cmd := exec.Command("go", "build", "-o", b.hello, "./bench/routerbench/hello")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./bench/routerbench/hello: %w\n%s", err, out)
	}
	return nil
}

// freeBase finds a base port whose router, web.1 and preboot ports (base,
// base+1, base+51) are free, and two more for caddy and nginx.
func (b *bench) freePorts() error {
	free := func(p int) bool {
		ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}
	for base := 21000 + os.Getpid()%5000; base < 32000; base += 7 {
		if free(base) && free(base+1) && free(base+51) && free(base+2) && free(base+3) {
			b.base, b.caddyP, b.nginxP = base, base+2, base+3
			return nil
		}
	}
	return errors.New("no free ports from 21000 up")
}

// output is ganger's stdout: the lines the bench waits for, and a count
// of the router's error lines; the router's info lines are only counted.
type output struct {
	mu     sync.Mutex
	lines  []string // all but the router's info lines
	info   int
	errors []string // router at=error lines
	more   chan struct{}
	eof    bool
}

func (o *output) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	info := []byte("router | at=info ")
	for sc.Scan() {
		// The router's info lines, one per request, are only counted: the
		// bench shares the cores with ganger, and keeps its own work small.
		if l := sc.Bytes(); bytes.HasPrefix(l, info) {
			o.mu.Lock()
			o.info++
			o.mu.Unlock()
			continue
		}
		l := sc.Text()
		o.mu.Lock()
		if strings.HasPrefix(l, "router | at=error") {
			o.errors = append(o.errors, l)
		}
		o.lines = append(o.lines, l)
		close(o.more)
		o.more = make(chan struct{})
		o.mu.Unlock()
	}
	o.mu.Lock()
	o.eof = true
	close(o.more)
	o.mu.Unlock()
}

// wait waits for a line matching re among those from index from on.
func (o *output) wait(from int, re *regexp.Regexp, d time.Duration) (int, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		o.mu.Lock()
		for i := from; i < len(o.lines); i++ {
			if re.MatchString(o.lines[i]) {
				o.mu.Unlock()
				return i, nil
			}
		}
		eof, more := o.eof, o.more
		o.mu.Unlock()
		if eof {
			return 0, fmt.Errorf("ganger's output ended without a line matching %q", re)
		}
		select {
		case <-more:
		case <-timer.C:
			return 0, fmt.Errorf("no line matching %q within %s", re, d)
		}
	}
}

// codes counts the router's error lines from index from to to of the
// errors, by code: "H27 ×27".
func (o *output) codes(from, to int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := map[string]int{}
	re := regexp.MustCompile(`code=(H[0-9]+)`)
	for _, l := range o.errors[from:to] {
		c := "no code"
		if m := re.FindStringSubmatch(l); m != nil {
			c = m[1]
		}
		n[c]++
	}
	var out []string
	for _, c := range slices.Sorted(maps.Keys(n)) {
		out = append(out, fmt.Sprintf("%s ×%d", c, n[c]))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func (o *output) counts() (lines, info, errs int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.lines), o.info, len(o.errors)
}

// startAll starts ganger (one web instance, the backend), caddy and nginx
// in front of web.1's port, and checks that each answers.
func (b *bench) startAll(stdout io.Writer) error {
	if err := b.freePorts(); err != nil {
		return err
	}
	b.appDir = filepath.Join(b.tmp, "app")
	if err := os.MkdirAll(b.appDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.appDir, "Procfile"), []byte("web: exec "+b.hello+"\n"), 0o644); err != nil {
		return err
	}
	b.gcmd = exec.Command(b.ganger, "start", "--router", "--no-timestamp", "--no-color", "-p", strconv.Itoa(b.base))
	b.gcmd.Dir, b.gcmd.Env, b.gcmd.Stderr = b.appDir, benchutil.Env(), os.Stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	b.gcmd.Stdout = pw
	if err := b.gcmd.Start(); err != nil {
		return err
	}
	pw.Close()
	b.gout = &output{more: make(chan struct{})}
	go b.gout.read(pr)
	if _, err := b.gout.wait(0, regexp.MustCompile(`^system +\| web\.1 ready in `), b.cfg.deadline); err != nil {
		return err
	}
	web := b.base + 1

	caddyfile := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n}\nhttp://127.0.0.1:%d {\n\treverse_proxy 127.0.0.1:%d\n}\n", b.caddyP, web)
	cf := filepath.Join(b.tmp, "Caddyfile")
	if err := os.WriteFile(cf, []byte(caddyfile), 0o644); err != nil {
		return err
	}
	caddy := exec.Command(b.tools["caddy"], "run", "--adapter", "caddyfile", "--config", cf)
	caddy.Env = append(benchutil.Env(), "HOME="+b.tmp, "XDG_DATA_HOME="+b.tmp, "XDG_CONFIG_HOME="+b.tmp)
	if err := b.startOther(caddy); err != nil {
		return err
	}

	nginxDir := filepath.Join(b.tmp, "nginx")
	if err := os.MkdirAll(filepath.Join(nginxDir, "logs"), 0o755); err != nil {
		return err
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	upstream app {
		server 127.0.0.1:%[3]d;
		keepalive 64;
	}
	server {
		listen 127.0.0.1:%[2]d;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
`, nginxDir, b.nginxP, web)
	nc := filepath.Join(nginxDir, "nginx.conf")
	if err := os.WriteFile(nc, []byte(conf), 0o644); err != nil {
		return err
	}
	if err := b.startOther(exec.Command(b.tools["nginx"], "-e", filepath.Join(nginxDir, "logs", "error.log"), "-p", nginxDir, "-c", nc)); err != nil {
		return err
	}
	for _, p := range []int{web, b.base, b.caddyP, b.nginxP} {
		if err := b.answers(p); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "ganger's router on %d, web.1 on %d, caddy on %d, nginx on %d\n", b.base, web, b.caddyP, b.nginxP)
	return nil
}

// startOther starts a reference proxy in its own process group.
func (b *bench) startOther(cmd *exec.Cmd) error {
	cmd.Dir = b.tmp
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	f, err := os.Create(filepath.Join(b.tmp, filepath.Base(cmd.Path)+".log"))
	if err != nil {
		return err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", cmd.Path, err)
	}
	b.others = append(b.others, cmd)
	return nil
}

// answers waits until GET / on port gets "hello".
func (b *bench) answers(port int) error {
	deadline := time.Now().Add(b.cfg.deadline)
	var last error
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", port)
			reply, _ := io.ReadAll(c)
			c.Close()
			if strings.HasPrefix(string(reply), "HTTP/1.1 200") && strings.HasSuffix(string(reply), "hello\n") {
				return nil
			}
			last = fmt.Errorf("answer %q", reply)
		} else {
			last = err
		}
		time.Sleep(50 * time.Millisecond) // a proxy starting up has no readiness signal
	}
	logs := ""
	for _, name := range []string{"caddy.log", "nginx.log", filepath.Join("nginx", "logs", "error.log")} {
		if l, err := os.ReadFile(filepath.Join(b.tmp, name)); err == nil && len(l) > 0 {
			logs += "\n" + name + ":\n" + string(l)
		}
	}
	return fmt.Errorf("port %d does not answer GET / within %s: %v%s", port, b.cfg.deadline, last, logs)
}

// stopAll stops the proxies and ganger, which must exit 130 with its
// processes gone.
func (b *bench) stopAll() error {
	if b.stopped {
		return nil
	}
	b.stopped = true
	for _, c := range b.others {
		syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		c.Wait()
	}
	if b.gcmd == nil || b.gcmd.Process == nil {
		return nil
	}
	b.gcmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { b.gcmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.cfg.deadline):
		b.gcmd.Process.Kill()
		<-done
		return fmt.Errorf("ganger did not exit within %s of SIGINT", b.cfg.deadline)
	}
	if code := b.gcmd.ProcessState.ExitCode(); code != 130 {
		return fmt.Errorf("ganger exited with %v after SIGINT, want 130", b.gcmd.ProcessState)
	}
	return nil
}

// result is what one wrk run reports.
type result struct {
	rps           float64
	p50, p99      time.Duration
	requests      int64
	non2xx        int64
	socketErrors  int64
	socketSummary string
}

var (
	rpsRE    = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	pctRE    = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+[a-z]+)`)
	reqRE    = regexp.MustCompile(`(?m)^\s+([0-9]+) requests in `)
	non2xxRE = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses: ([0-9]+)`)
	sockRE   = regexp.MustCompile(`(?m)^\s+Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)`)
)

func parseWrk(out string) (result, error) {
	var r result
	m := rpsRE.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range pctRE.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			return r, fmt.Errorf("wrk latency %q: %w", m[2], err)
		}
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := reqRE.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := non2xxRE.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	r.socketSummary = "no socket errors"
	if m := sockRE.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.socketErrors += n
		}
		r.socketSummary = strings.TrimSpace(m[0])
	}
	return r, nil
}

// wrk runs wrk against port with conns connections for d.
func (b *bench) wrk(port, conns, threads int, d time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+b.cfg.deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.tools["wrk"], "--latency", "-c", strconv.Itoa(conns), "-t", strconv.Itoa(min(threads, conns)),
		"-d", strconv.Itoa(max(1, int(d.Seconds())))+"s", fmt.Sprintf("http://127.0.0.1:%d/", port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err == nil && (r.non2xx > 0 || r.socketErrors > 0) {
		err = fmt.Errorf("port %d: %d non-2xx answers, %s", port, r.non2xx, r.socketSummary)
	}
	return r, err
}

// target is one way to the backend.
type target struct {
	name string
	port int
	tput []result // throughput runs
	lat  []result // one-connection runs
}

func (b *bench) measure(stdout io.Writer) error {
	c := b.cfg
	targets := []*target{
		{name: "direct to web.1", port: b.base + 1},
		{name: "ganger --router", port: b.base},
		{name: "caddy reverse_proxy", port: b.caddyP},
		{name: "nginx (keepalive, 1 worker)", port: b.nginxP},
	}
	fmt.Fprintln(stdout, "warming up ...")
	for _, t := range targets {
		if _, err := b.wrk(t.port, c.conns, c.threads, time.Second); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	_, info0, errs0 := b.gout.counts()
	for rep := range c.reps {
		for _, t := range targets {
			fmt.Fprintf(stdout, "run %d/%d: %s ...\n", rep+1, c.reps, t.name)
			r, err := b.wrk(t.port, c.conns, c.threads, c.dur)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.tput = append(t.tput, r)
			if r, err = b.wrk(t.port, 1, 1, c.latDur); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.lat = append(t.lat, r)
		}
	}
	_, info1, errs1 := b.gout.counts()

	pb, err := b.preboot(stdout)
	if err != nil {
		return err
	}
	if err := b.stopAll(); err != nil {
		return err
	}

	med := func(rs []result, f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rps := func(t *target) float64 { return med(t.tput, func(r result) float64 { return r.rps }) }
	p50 := func(rs []result) time.Duration {
		return time.Duration(med(rs, func(r result) float64 { return float64(r.p50) }))
	}
	p99 := func(rs []result) time.Duration {
		return time.Duration(med(rs, func(r result) float64 { return float64(r.p99) }))
	}
	direct, g, caddy, nginx := targets[0], targets[1], targets[2], targets[3]

	fmt.Fprintf(stdout, "\nwrk -c %d -t %d -d %s (throughput) and wrk -c 1 -t 1 -d %s (latency), median of %d; the same hello backend (web.1 of ganger) behind each\n\n",
		c.conns, c.threads, c.dur, c.latDur, c.reps)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "target\treq/s (%d conns)\tof direct\tmedian\tp99\t1 conn: req/s\tmedian\tp99\tadded median\n", c.conns)
	fmt.Fprintf(tw, "------\t-----\t---------\t------\t---\t-----\t------\t---\t------------\n")
	for _, t := range targets {
		added := "-"
		if t != direct {
			added = fmt.Sprintf("+%.3fms", float64(p50(t.lat)-p50(direct.lat))/1e6)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%s\t%s\t%.0f\t%s\t%s\t%s\n", t.name, rps(t), rps(t)/rps(direct),
			p50(t.tput), p99(t.tput), med(t.lat, func(r result) float64 { return r.rps }), p50(t.lat), p99(t.lat), added)
	}
	tw.Flush()
	goal := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	addedG := p50(g.lat) - p50(direct.lat)
	fmt.Fprintf(stdout, "\nganger / caddy req/s: %.2f (goal >= 1: %s)\n", rps(g)/rps(caddy), goal(rps(g) >= rps(caddy)))
	fmt.Fprintf(stdout, "ganger / nginx req/s: %.2f (goal >= 0.8: %s)\n", rps(g)/rps(nginx), goal(rps(g) >= 0.8*rps(nginx)))
	fmt.Fprintf(stdout, "added median latency, one connection: ganger +%.3fms, caddy +%.3fms, nginx +%.3fms (goal for ganger < 0.2ms: %s)\n",
		float64(addedG)/1e6, float64(p50(caddy.lat)-p50(direct.lat))/1e6, float64(p50(nginx.lat)-p50(direct.lat))/1e6, goal(addedG < 200*time.Microsecond))
	fmt.Fprintf(stdout, "router log lines during the runs: %d at=info, %d at=error (%s; H27: requests in flight when wrk closes its connections at the end of a run)\n", info1-info0, errs1-errs0, b.gout.codes(errs0, errs1))
	fmt.Fprintf(stdout, "\npreboot: %d x ganger restart web during wrk -c %d: %d requests in %s (%.0f req/s), %d failed (%d non-2xx, %s), %d router at=error lines; %d switches; restart took median %s, max %s (goal 0 failed: %s)\n",
		c.reloads, c.conns, pb.res.requests, pb.took.Round(time.Millisecond), pb.res.rps, pb.res.non2xx+pb.res.socketErrors, pb.res.non2xx, pb.res.socketSummary,
		pb.routerErrors, pb.switches, benchutil.Round(benchutil.Median(pb.restarts)), benchutil.Round(slices.Max(pb.restarts)),
		goal(pb.res.non2xx+pb.res.socketErrors == 0 && pb.routerErrors == 0 && pb.switches == c.reloads))
	return nil
}

// prebootResult is what the preboot run found.
type prebootResult struct {
	res          result
	took         time.Duration
	restarts     []time.Duration
	switches     int
	routerErrors int
}

// preboot runs wrk against the router while web is restarted cfg.reloads
// times, one "ganger restart web" after the other (each returns once the
// new web.1 took over), then stops wrk with SIGINT (it prints its figures).
func (b *bench) preboot(stdout io.Writer) (prebootResult, error) {
	var pb prebootResult
	fmt.Fprintf(stdout, "preboot: %d restarts of web under load ...\n", b.cfg.reloads)
	mark, info0, errs0 := b.gout.counts()
	cmd := exec.Command(b.tools["wrk"], "--latency", "-c", strconv.Itoa(b.cfg.conns), "-t", strconv.Itoa(b.cfg.threads), "-d", "600s", fmt.Sprintf("http://127.0.0.1:%d/", b.base))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return pb, err
	}
	// Requests are flowing once the router has logged some.
	for deadline := time.Now().Add(b.cfg.deadline); ; {
		if _, info, _ := b.gout.counts(); info-info0 >= 1000 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return pb, errors.New("wrk's requests do not reach the router")
		}
		time.Sleep(10 * time.Millisecond) // a count has no wait primitive
	}
	switched := regexp.MustCompile(`^system +\| web\.1: the new version is up on port [0-9]+; stopping the previous one`)
	for i := range b.cfg.reloads {
		t0 := time.Now()
		restart := exec.Command(b.ganger, "restart", "web")
		restart.Dir, restart.Env = b.appDir, benchutil.Env()
		if o, err := restart.CombinedOutput(); err != nil || string(o) != "restarted web\n" {
			cmd.Process.Kill()
			cmd.Wait()
			return pb, fmt.Errorf("restart %d: %v: %s", i+1, err, o)
		}
		pb.restarts = append(pb.restarts, time.Since(t0))
		at, err := b.gout.wait(mark, switched, b.cfg.deadline)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return pb, err
		}
		mark = at + 1
		pb.switches++
	}
	// Error lines from now on may be wrk's last requests, cut off as it
	// stops (H27): they are not counted.
	_, _, errs1 := b.gout.counts()
	pb.routerErrors = errs1 - errs0
	cmd.Process.Signal(syscall.SIGINT) // wrk stops and prints its figures
	cmd.Wait()
	pb.took = time.Since(start)
	var err error
	if pb.res, err = parseWrk(out.String()); err != nil {
		return pb, err
	}
	return pb, nil
}
