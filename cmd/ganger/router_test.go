//go:build linux

package main

// "ganger start --router" end to end: the real ganger (this test binary on
// PATH, see TestMain) in front of fakeweb processes, driven over real
// sockets, its output read from a pipe line by line. Every wait ends on a
// line of that output or an answer, bounded by scriptDeadline.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// routerPorts are the offsets from the base port that a test's ganger may
// use: the router, web.1 and web.2, their preboot twins, and worker.1.
var routerPorts = []int{0, 1, 2, 51, 52, 101}

// routerRun is one "ganger start --router" of a test.
type routerRun struct {
	t      *testing.T
	dir    string
	base   int
	cmd    *exec.Cmd
	out    lines
	stderr lockedBuffer
	exited chan struct{} // closed once cmd.Wait has returned
	client *http.Client
	once   sync.Once
}

// lines is ganger's output so far.
type lines struct {
	mu    sync.Mutex
	start time.Time
	all   []string
	at    []time.Duration // when each line was read, from start
	eof   bool
	more  chan struct{} // closed, and replaced, at each new line and at EOF
}

func (l *lines) add(s string, eof bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !eof {
		l.all = append(l.all, s)
		l.at = append(l.at, time.Since(l.start))
	}
	l.eof = l.eof || eof
	close(l.more)
	l.more = make(chan struct{})
}

// gangerEnv is the test's environment for ganger and its processes, without
// settings of the developer's that change ganger's behaviour or output.
func gangerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GANGER_"), k == "NO_COLOR", k == "FORCE_COLOR", k == "PORT", k == "PS", k == "GORACE":
			continue
		}
		env = append(env, kv)
	}
	// See TestScripts' Setup for GORACE.
	return append(env, "NO_COLOR=1", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
}

// startRouter writes files (Procfile, .env) into a new app directory and
// runs "ganger start --router --no-timestamp -p BASE args..." in it, on a
// base port whose routerPorts are free. The run is stopped, and checked,
// when the test ends, unless the test stopped it.
func startRouter(t *testing.T, files map[string]string, args ...string) *routerRun {
	t.Helper()
	base, err := freeBase(t.Name(), routerPorts...)
	if err != nil {
		t.Fatal(err)
	}
	r := &routerRun{t: t, dir: t.TempDir(), base: base, exited: make(chan struct{})}
	r.out.more, r.out.start = make(chan struct{}), time.Now()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(r.dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.cmd = exec.Command("ganger", append([]string{"start", "--router", "--no-timestamp", "-p", strconv.Itoa(base)}, args...)...)
	r.cmd.Dir, r.cmd.Env, r.cmd.Stderr = r.dir, gangerEnv(), &r.stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout = pw
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			r.out.add(sc.Text(), false)
		}
		r.out.add("", true)
	}()
	go func() {
		r.cmd.Wait()
		close(r.exited)
	}()
	r.client = &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}, // never HTTP_PROXY
		Timeout:   scriptDeadline,
	}
	t.Cleanup(func() {
		r.stop()
		r.client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("ganger's output, each line after the time it was read at:\n%s\nstderr:\n%s", r.out.dump(), r.stderr.String())
		}
	})
	return r
}

// lines returns a copy of the output so far.
func (r *routerRun) lines() []string {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	return slices.Clone(r.out.all)
}

// mark is where the output is now: waitAfter(mark, ...) looks at what
// comes later.
func (r *routerRun) mark() int {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	return len(r.out.all)
}

// wait waits for a line matching pattern and returns its submatches.
func (r *routerRun) wait(pattern string) []string { return r.waitAfter(0, pattern) }

// waitAfter waits for a line from index from on matching pattern, and
// returns its submatches.
func (r *routerRun) waitAfter(from int, pattern string) []string {
	r.t.Helper()
	i := r.waitAfterAt(from, pattern)
	return regexp.MustCompile(pattern).FindStringSubmatch(r.lines()[i])
}

// waitAfterAt waits for a line from index from on matching pattern, and
// returns its index.
func (r *routerRun) waitAfterAt(from int, pattern string) int {
	r.t.Helper()
	re := regexp.MustCompile(pattern)
	timer := time.NewTimer(scriptDeadline)
	defer timer.Stop()
	for {
		r.out.mu.Lock()
		for i := from; i < len(r.out.all); i++ {
			if re.MatchString(r.out.all[i]) {
				r.out.mu.Unlock()
				return i
			}
		}
		eof, more := r.out.eof, r.out.more
		r.out.mu.Unlock()
		if eof {
			r.t.Fatalf("ganger's output ended without a line matching %q", pattern)
		}
		select {
		case <-more:
		case <-timer.C:
			r.t.Fatalf("no line matching %q within %s", pattern, scriptDeadline)
		}
	}
}

// waitN waits until n lines match pattern.
func (r *routerRun) waitN(pattern string, n int) {
	r.t.Helper()
	from := 0
	for range n {
		m := r.waitAfterAt(from, pattern)
		from = m + 1
	}
}

// count is how many lines so far match pattern.
func (r *routerRun) count(pattern string) int {
	re := regexp.MustCompile(pattern)
	n := 0
	for _, l := range r.lines() {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// ganger runs a ganger command (ps, restart, stop) in the app and returns
// its stdout; it fails the test if the command fails.
func (r *routerRun) ganger(args ...string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scriptDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ganger", args...)
	cmd.Dir, cmd.Env = r.dir, gangerEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("ganger %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// url is the router's URL for path.
func (r *routerRun) url(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(r.base) + path
}

// get sends GET path through the router, with headers of hdr (name, value
// pairs), and returns the status and the whole body.
func (r *routerRun) get(path string, hdr ...string) (int, string, error) {
	req, err := http.NewRequest("GET", r.url(path), nil)
	if err != nil {
		return 0, "", err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := r.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// mustGet is get, failing the test unless the status is want.
func (r *routerRun) mustGet(want int, path string, hdr ...string) string {
	r.t.Helper()
	status, body, err := r.get(path, hdr...)
	if err != nil {
		r.t.Fatalf("GET %s: %v", path, err)
	}
	if status != want {
		r.t.Fatalf("GET %s: status %d, want %d; body:\n%s", path, status, want, body)
	}
	return body
}

// stop sends ganger SIGINT (once), waits for it to exit with 130, and
// checks that the process group of every process it said it started is
// empty: it returns only once they are.
func (r *routerRun) stop() {
	r.once.Do(func() {
		t := r.t
		t.Helper()
		select {
		case <-r.exited:
			t.Errorf("ganger exited before it was stopped: %v", r.cmd.ProcessState)
			return
		default:
		}
		if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Errorf("SIGINT to ganger: %v", err)
		}
		select {
		case <-r.exited:
		case <-time.After(scriptDeadline):
			r.cmd.Process.Kill() // the keeper: what is below it is killed with it
			<-r.exited
			t.Errorf("ganger did not exit within %s of SIGINT; killed", scriptDeadline)
			return
		}
		if code := r.cmd.ProcessState.ExitCode(); code != 130 {
			t.Errorf("ganger exited with %v after SIGINT, want code 130", r.cmd.ProcessState)
		}
		// The output is read to its end: every "started with pid" is in.
		timer := time.NewTimer(scriptDeadline)
		defer timer.Stop()
		for !r.out.isEOF() {
			select {
			case <-r.out.moreChan():
			case <-timer.C:
				t.Errorf("ganger's output still open %s after it exited", scriptDeadline)
				return
			}
		}
		n := 0
		for _, l := range r.lines() {
			_, after, ok := strings.Cut(l, "| started with pid ")
			if !ok {
				continue
			}
			pgid, err := strconv.Atoi(strings.TrimSpace(after))
			if err != nil || pgid <= 1 {
				t.Errorf("bad line %q", l)
				continue
			}
			if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process group %d still has members after ganger exited (kill: %v)", pgid, err)
			}
			n++
		}
		if n == 0 {
			t.Errorf("no \"started with pid\" line in ganger's output")
		}
	})
}

// dump is the output with the time each line was read at.
func (l *lines) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for i, s := range l.all {
		fmt.Fprintf(&b, "%8.3fs %s\n", l.at[i].Seconds(), s)
	}
	return b.String()
}

func (l *lines) isEOF() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eof
}

func (l *lines) moreChan() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.eof {
		c := make(chan struct{})
		close(c)
		return c
	}
	return l.more
}

// routerLine is the pattern of a router log line; fields are regexps for
// what comes after "at=" up to " method=", and then from "path=" on.
func routerLine(at, rest string) string {
	return `^router +\| at=` + at + ` method=` + rest
}

var helloRE = regexp.MustCompile(`^hello from (web\.[12]) pid ([0-9]+)\n$`)

// hello parses the answer of fakeweb's "/": the instance and its pid.
func hello(t *testing.T, body string) (name, pid string) {
	t.Helper()
	m := helloRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("body %q is not fakeweb's hello", body)
	}
	return m[1], m[2]
}

// The router in front of two web instances: round robin and its log lines,
// the platform's headers, H13, a streamed response, a WebSocket echo, a
// request that is not HTTP, ganger ps, and H14 once web is stopped.
func TestRouterRouting(t *testing.T) {
	t.Parallel()
	r := startRouter(t, map[string]string{"Procfile": "web: fakeweb\n"}, "-m", "web=2")
	b := r.base
	r.wait(fmt.Sprintf(`^system +\| router on http://localhost:%d/ in front of web\.1 \(port %d\), web\.2 \(port %d\)$`, b, b+1, b+2))
	r.wait(`^system +\| web\.1 ready in `)
	r.wait(`^system +\| web\.2 ready in `)

	// Round robin: consecutive requests alternate between the two.
	var names, bodies []string
	for range 4 {
		body := r.mustGet(200, "/")
		name, _ := hello(t, body)
		names, bodies = append(names, name), append(bodies, body)
	}
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("requests went to %v: want them to alternate", names)
		}
	}
	logLine := func(name, bytes string) string {
		return routerLine("info", fmt.Sprintf(`GET path="/" host=127\.0\.0\.1:%d request_id=[-0-9a-f]{36} fwd="127\.0\.0\.1" dyno=%s connect=[0-9]+ms service=[0-9]+ms status=200 bytes=%s protocol=http$`,
			b, regexp.QuoteMeta(name), bytes))
	}
	for i, name := range names {
		r.wait(logLine(name, strconv.Itoa(len(bodies[i]))))
	}
	for _, name := range []string{"web.1", "web.2"} {
		r.waitN(logLine(name, `[0-9]+`), 2)
	}

	// Headers: a valid X-Request-Id is kept, X-Forwarded-For appended to,
	// Via added to; the rest set.
	before := time.Now().UnixMilli()
	h := headerMap(r.mustGet(200, "/headers", "X-Request-Id", "e2e-request-0123456789", "X-Forwarded-For", "203.0.113.7", "Via", "1.0 upstream"))
	after := time.Now().UnixMilli()
	want := map[string][]string{
		"Host":              {fmt.Sprintf("127.0.0.1:%d", b)},
		"X-Request-Id":      {"e2e-request-0123456789"},
		"X-Forwarded-For":   {"203.0.113.7, 127.0.0.1"},
		"X-Forwarded-Proto": {"http"},
		"X-Forwarded-Port":  {strconv.Itoa(b)},
		"Via":               {"1.0 upstream", "1.1 ganger"},
	}
	for k, v := range want {
		if !slices.Equal(h[k], v) {
			t.Errorf("the app got %s: %q, want %q", k, h[k], v)
		}
	}
	if ms, err := strconv.ParseInt(first(h["X-Request-Start"]), 10, 64); err != nil || ms < before || ms > after {
		t.Errorf("X-Request-Start: %q, want milliseconds since the epoch from %d to %d", h["X-Request-Start"], before, after)
	}
	r.wait(routerLine("info", `GET path="/headers" .* request_id=e2e-request-0123456789 fwd="127\.0\.0\.1" dyno=web\.[12] .* status=200 `))
	// No id, or one that is not valid: a new UUID, the one logged.
	for i, id := range []string{"", "not valid!"} {
		h = headerMap(r.mustGet(200, fmt.Sprintf("/headers?case=%d", i), "X-Request-Id", id))
		got := first(h["X-Request-Id"])
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got) {
			t.Errorf("client's X-Request-Id %q: the app got %q, want a new UUID v4", id, got)
		}
		if v := h["X-Forwarded-For"]; !slices.Equal(v, []string{"127.0.0.1"}) || !slices.Equal(h["Via"], []string{"1.1 ganger"}) {
			t.Errorf("X-Forwarded-For %q, Via %q: want 127.0.0.1 and 1.1 ganger", v, h["Via"])
		}
		r.wait(routerLine("info", fmt.Sprintf(`GET path="/headers\?case=%d" .* request_id=%s `, i, got)))
	}

	// H13: the instance closes the connection without a response.
	body := r.mustGet(503, "/close")
	if !regexp.MustCompile(`^H13 Connection closed without response\nweb\.[12] closed the connection without a response\.`).MatchString(body) {
		t.Errorf("H13 page:\n%s", body)
	}
	r.wait(routerLine(`error code=H13 desc="Connection closed without response"`, `GET path="/close" .* dyno=web\.[12] connect=[0-9]+ms service=[0-9]+ms status=503 bytes=[0-9]+ protocol=http$`))

	// Streaming: the first event arrives while the handler still runs.
	res, err := r.client.Get(r.url("/sse"))
	if err != nil {
		t.Fatal(err)
	}
	event, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(event, "data: first from pid ") {
		t.Fatalf("first event: %q, %v", event, err)
	}
	pid := strings.TrimSpace(strings.TrimPrefix(event, "data: first from pid "))
	r.wait(`\| fakeweb: sse stream open on pid ` + pid + `$`)
	if n := r.count(`fakeweb: sse stream closed`); n != 0 {
		t.Errorf("the stream's handler ended before the client read the first event")
	}
	res.Body.Close() // the client goes: the router passes it on
	r.wait(`\| fakeweb: sse stream closed on pid ` + pid + `$`)
	r.wait(routerLine(`.*`, `GET path="/sse" .* dyno=web\.[12] `))

	// A WebSocket echo through the router.
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(scriptDeadline))
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", b)
	br := bufio.NewReader(c)
	ws, err := http.ReadResponse(br, nil)
	if err != nil || ws.StatusCode != http.StatusSwitchingProtocols || ws.Header.Get("Upgrade") != "websocket" {
		t.Fatalf("upgrade: %v, %v", ws, err)
	}
	for _, msg := range []string{"ping through the router\n", "and another\n"} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		if got, err := br.ReadString('\n'); got != msg || err != nil {
			t.Errorf("echo of %q: %q, %v", msg, got, err)
		}
	}
	c.Close()
	r.wait(routerLine("info", `GET path="/ws" .* dyno=web\.[12] connect=[0-9]+ms service=[0-9]+ms status=101 `))

	// Bytes that are not HTTP: 400 and a log line.
	c, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(scriptDeadline))
	io.WriteString(c, "this is not HTTP\r\n\r\n")
	if bad, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || bad.StatusCode != 400 {
		t.Errorf("not HTTP: %v, %v; want 400", bad, err)
	}
	c.Close()
	r.wait(routerLine(`error desc="Bad request"`, ` path="" host= request_id= fwd="127\.0\.0\.1" dyno= connect= service= status=400 `))

	// ganger ps: the router with its port, each web instance with its own.
	ps := r.ganger("ps")
	for _, row := range []string{
		fmt.Sprintf(`(?m)^router +running +%d +%d +`, pidOf(t, r), b),
		fmt.Sprintf(`(?m)^web\.1 +running +[0-9]+ +%d +`, b+1),
		fmt.Sprintf(`(?m)^web\.2 +running +[0-9]+ +%d +`, b+2),
	} {
		if !regexp.MustCompile(row).MatchString(ps) {
			t.Errorf("ganger ps: no row matching %q in\n%s", row, ps)
		}
	}

	// H14: web stopped on purpose.
	if out := r.ganger("stop", "web"); out != "stopped web\n" {
		t.Errorf("ganger stop web: %q", out)
	}
	body = r.mustGet(503, "/")
	if !strings.HasPrefix(body, "H14 No web processes running\n") || !strings.Contains(body, "web.1: stopped by ganger") {
		t.Errorf("H14 page:\n%s", body)
	}
	r.wait(routerLine(`error code=H14 desc="No web processes running"`, `GET path="/" .* dyno= connect= service= status=503 bytes=[0-9]+ protocol=http$`))
	r.stop()
}

// pidOf is the pid of the inner ganger, the one that serves: ganger ps
// shows it on the router's row. It is the parent of the web processes.
func pidOf(t *testing.T, r *routerRun) int {
	t.Helper()
	m := r.wait(`^web\.1 +\| started with pid ([0-9]+)$`)
	pid, _ := strconv.Atoi(m[1])
	ppid, err := parentOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	return ppid
}

// headerMap parses fakeweb's /headers answer.
func headerMap(body string) map[string][]string {
	h := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		h[k] = append(h[k], v)
	}
	return h
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// H12 after --router-timeout, and H10 once every web instance crashed while
// the rest keeps running (--can-die web).
func TestRouterCrashAndTimeout(t *testing.T) {
	t.Parallel()
	r := startRouter(t, map[string]string{"Procfile": "web: fakeweb\nworker: fakeproc\n"},
		"-m", "web=2,worker=1", "--can-die", "web", "--router-timeout", "1s")
	r.wait(`^system +\| web\.1 ready in `)
	r.wait(`^system +\| web\.2 ready in `)

	body := r.mustGet(503, "/hang")
	if !regexp.MustCompile(`^H12 Request timeout\nweb\.[12] sent no response within 1s\.`).MatchString(body) {
		t.Errorf("H12 page:\n%s", body)
	}
	r.wait(routerLine(`error code=H12 desc="Request timeout"`, `GET path="/hang" .* dyno=web\.[12] connect=[0-9]+ms service=[0-9]+ms status=503 `))

	// Each crash is one instance's last answer (H13); once the first has
	// exited, the router sends the next request to the other.
	r.mustGet(503, "/crash")
	first := r.wait(`^(web\.[12]) +\| exited with code 3$`)[1]
	r.mustGet(503, "/crash")
	other := map[string]string{"web.1": "web.2", "web.2": "web.1"}[first]
	r.wait(`^` + regexp.QuoteMeta(other) + ` +\| exited with code 3$`)

	body = r.mustGet(503, "/", "Accept", "text/plain")
	for _, s := range []string{"H10 App crashed\n", "web.1: exited with code 3\n", "web.2: exited with code 3\n", `"ganger restart web"`} {
		if !strings.Contains(body, s) {
			t.Errorf("H10 page lacks %q:\n%s", s, body)
		}
	}
	r.wait(routerLine(`error code=H10 desc="App crashed"`, `GET path="/" .* dyno= connect= service= status=503 `))
	if ps := r.ganger("ps"); !regexp.MustCompile(`(?m)^worker\.1 +running `).MatchString(ps) {
		t.Errorf("ganger ps after web crashed:\n%s", ps)
	}
	r.stop()
}

// Preboot: 20 restarts of web under continuous load lose no request; a
// request in flight when its instance is replaced completes; a new version
// that fails its boot leaves the old one serving, and the next restart
// switches.
func TestRouterPreboot(t *testing.T) {
	t.Parallel()
	r := startRouter(t, map[string]string{"Procfile": "web: fakeweb\n", ".env": "FAILBOOT=failboot\n"}, "-m", "web=2")
	r.wait(`^system +\| web\.1 ready in `)
	r.wait(`^system +\| web\.2 ready in `)

	// Load: clients send requests back to back while web restarts.
	const clients, restarts = 4, 20
	var ok atomic.Int64
	progress := make(chan struct{}, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	pids := map[string]bool{}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, body, err := r.get("/")
				mu.Lock()
				if err != nil || status != 200 {
					failures = append(failures, fmt.Sprintf("status %d, %v: %q", status, err, body))
				} else {
					pids[body] = true
				}
				mu.Unlock()
				ok.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}()
	}
	// awaitRequests waits until n more requests have been answered.
	awaitRequests := func(n int64) {
		t.Helper()
		target := ok.Load() + n
		timer := time.NewTimer(scriptDeadline)
		defer timer.Stop()
		for ok.Load() < target {
			select {
			case <-progress:
			case <-timer.C:
				t.Fatalf("fewer than %d requests answered within %s", n, scriptDeadline)
			}
		}
	}
	awaitRequests(clients)
	began := time.Now()
	for i := range restarts {
		if out := r.ganger("restart", "web"); out != "restarted web\n" {
			t.Errorf("restart %d: %q", i+1, out)
		}
		awaitRequests(clients) // some requests between two restarts
	}
	close(stop)
	wg.Wait()
	for _, name := range []string{"web.1", "web.2"} {
		switched := `^system +\| ` + regexp.QuoteMeta(name) + `: the new version is up on port [0-9]+; stopping the previous one`
		r.waitN(switched, restarts)
		if n := r.count(switched); n != restarts {
			t.Errorf("%s switched %d times, want %d", name, n, restarts)
		}
	}
	mu.Lock()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during %d restarts; the first: %s", len(failures), ok.Load(), restarts, failures[0])
	}
	if len(pids) < 2*restarts {
		t.Errorf("answers came from %d processes, want at least %d (each restart's new ones)", len(pids), 2*restarts)
	}
	mu.Unlock()
	t.Logf("%d requests during %d restarts of web=2 (%s), none failed", ok.Load(), restarts, time.Since(began).Round(time.Millisecond))

	// A request in flight survives the reload of its instance: the old
	// process finishes it after its SIGTERM.
	mark := r.mark()
	type answer struct {
		status int
		body   string
		err    error
	}
	slow := make(chan answer, 1)
	go func() {
		status, body, err := r.get("/slow?ms=100&term=1")
		slow <- answer{status, body, err}
	}()
	m := r.waitAfter(mark, `^(web\.[12]) +\| fakeweb: slow request in flight on pid ([0-9]+)$`)
	name, pid := m[1], m[2]
	if out := r.ganger("restart", name); out != "restarted "+name+"\n" {
		t.Errorf("restart %s: %q", name, out)
	}
	r.waitAfter(mark, `^system +\| `+regexp.QuoteMeta(name)+`: the new version is up on port [0-9]+; stopping the previous one \(pid `+pid+`\)$`)
	select {
	case a := <-slow:
		if a.err != nil || a.status != 200 || a.body != fmt.Sprintf("slow done by %s pid %s\n", name, pid) {
			t.Errorf("the request in flight: status %d, %q, %v", a.status, a.body, a.err)
		}
	case <-time.After(scriptDeadline):
		t.Fatalf("the request in flight got no answer within %s", scriptDeadline)
	}
	r.waitAfter(mark, `^`+regexp.QuoteMeta(name)+` +\| fakeweb: SIGTERM: finishing the requests in flight$`)

	// A broken reload keeps the old version.
	oldPids := currentPids(t, r)
	if err := os.WriteFile(filepath.Join(r.dir, "failboot"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mark = r.mark()
	r.ganger("restart", "web.1")
	r.waitAfter(mark, `^system +\| web\.1: the new version exited with code 1 during boot; still serving the previous one$`)
	for range 4 {
		name, pid := hello(t, r.mustGet(200, "/"))
		if pid != oldPids[name] {
			t.Errorf("after a failed reload %s answered from pid %s, want the previous one, %s", name, pid, oldPids[name])
		}
	}
	if err := os.Remove(filepath.Join(r.dir, "failboot")); err != nil {
		t.Fatal(err)
	}
	mark = r.mark()
	r.ganger("restart", "web.1")
	r.waitAfter(mark, `^system +\| web\.1: the new version is up on port [0-9]+; stopping the previous one \(pid `+oldPids["web.1"]+`\)$`)
	seen := map[string]string{}
	for range 2 {
		name, pid := hello(t, r.mustGet(200, "/"))
		seen[name] = pid
	}
	if seen["web.1"] == "" || seen["web.1"] == oldPids["web.1"] || seen["web.2"] != oldPids["web.2"] {
		t.Errorf("after the good reload: %v; before: %v; want a new web.1 and the same web.2", seen, oldPids)
	}
	r.stop()
}

// currentPids asks ganger ps for the pid of each web instance.
func currentPids(t *testing.T, r *routerRun) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(web\.[12]) +running +([0-9]+) `).FindAllStringSubmatch(r.ganger("ps"), -1) {
		out[m[1]] = m[2]
	}
	if len(out) != 2 {
		t.Fatalf("ganger ps shows %v, want web.1 and web.2 running", slices.Sorted(maps.Keys(out)))
	}
	return out
}

// The router's port taken: the port preflight names it and its holder, and
// ganger exits non-zero having started nothing; with --no-port-check the
// listen itself fails, as plainly.
func TestRouterPortTaken(t *testing.T) {
	t.Parallel()
	base, err := freeBase(t.Name(), routerPorts...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", base))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: fakeweb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, fmt.Sprintf(`(?m)^ganger: port %d \(PORT of router\) is already in use on [.:0-9]+:%d, held by pid %d \(`, base, base, os.Getpid())},
		{[]string{"--no-port-check"}, fmt.Sprintf(`(?m)^ganger: router: listen on port %d: .*address already in use; hint: use -p to choose another base port`, base)},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), scriptDeadline)
		cmd := exec.CommandContext(ctx, "ganger", append([]string{"start", "--router", "--no-timestamp", "-p", strconv.Itoa(base)}, c.args...)...)
		cmd.Dir, cmd.Env = dir, gangerEnv()
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("ganger start --router %v with the port taken: %v, want exit code 1", c.args, err)
		}
		if !regexp.MustCompile(c.want).MatchString(stderr.String()) {
			t.Errorf("stderr does not match %q:\n%s", c.want, stderr.String())
		}
		if strings.Contains(stdout.String(), "started with pid") {
			t.Errorf("something was started:\n%s", stdout.String())
		}
	}
}
