package router

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const uuid = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

// matches fails the test unless line matches the regular expression re
// (anchored at both ends).
func matches(t *testing.T, line, re string) {
	t.Helper()
	if !regexp.MustCompile(`^` + re + `$`).MatchString(line) {
		t.Errorf("log line\n\t%s\ndoes not match\n\t%s", line, re)
	}
}

func TestRoundRobin(t *testing.T) {
	r, url, _ := start(t, 0)
	r.Up("web.1", 101, serveApp(t, says("web.1")))
	r.Up("web.2", 102, serveApp(t, says("web.2")))
	c := newClient(t)
	var got []string
	for range 6 {
		_, body := get(t, c, url)
		got = append(got, body)
	}
	for i := range got {
		if i > 0 && got[i] == got[i-1] {
			t.Fatalf("answers %q: not round robin over web.1 and web.2", got)
		}
	}
}

func TestHeaders(t *testing.T) {
	r, url, _ := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		for _, k := range []string{"X-Request-Id", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Request-Start", "Via"} {
			fmt.Fprintf(w, "%s: %s\n", k, strings.Join(req.Header[k], ", "))
		}
		fmt.Fprintf(w, "Host: %s\n", req.Host)
	}))
	routerPort := url[strings.LastIndexByte(url, ':')+1:]
	c := newClient(t)
	header := func(body, k string) string {
		for l := range strings.Lines(body) {
			if v, ok := strings.CutPrefix(strings.TrimSuffix(l, "\n"), k+": "); ok {
				return v
			}
		}
		t.Fatalf("the app got no %s line in\n%s", k, body)
		return ""
	}

	before := time.Now().UnixMilli()
	_, body := get(t, c, url, "Host", "app.localhost:5000",
		"X-Request-Id", "abcdefghij0123456789", "X-Forwarded-For", "10.1.2.3", "X-Forwarded-Proto", "https",
		"X-Forwarded-Port", "443", "X-Request-Start", "5", "Via", "1.0 other")
	after := time.Now().UnixMilli()
	for k, want := range map[string]string{
		"X-Request-Id":      "abcdefghij0123456789",
		"X-Forwarded-For":   "10.1.2.3, 127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Port":  routerPort,
		"Via":               "1.0 other, 1.1 ganger",
		"Host":              "app.localhost:5000",
	} {
		if got := header(body, k); got != want {
			t.Errorf("the app got %s: %q, want %q", k, got, want)
		}
	}
	if ms, err := strconv.ParseInt(header(body, "X-Request-Start"), 10, 64); err != nil || ms < before || ms > after {
		t.Errorf("X-Request-Start: %q, want milliseconds between %d and %d", header(body, "X-Request-Start"), before, after)
	}

	for _, id := range []string{"", "short", "abcdefghij0123456789!", strings.Repeat("a", 201)} {
		_, body = get(t, c, url, "X-Request-Id", id)
		if got := header(body, "X-Request-Id"); !regexp.MustCompile(`^` + uuid + `$`).MatchString(got) {
			t.Errorf("client's X-Request-Id %q: the app got %q, want a new UUID v4", id, got)
		}
		if got := header(body, "X-Forwarded-For"); got != "127.0.0.1" {
			t.Errorf("X-Forwarded-For %q, want 127.0.0.1", got)
		}
		if got := header(body, "Via"); got != "1.1 ganger" {
			t.Errorf("Via %q, want 1.1 ganger", got)
		}
	}
}

func TestLogLine(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "hello")
	}))
	res, _ := get(t, newClient(t), url+"/x?y=1", "X-Request-Id", "abcdefghij0123456789")
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("status %d, want 201", res.StatusCode)
	}
	host := regexp.QuoteMeta(strings.TrimPrefix(url, "http://"))
	matches(t, lg.next(t), `at=info method=GET path="/x\?y=1" host=`+host+` request_id=abcdefghij0123456789 fwd="127\.0\.0\.1" dyno=web\.1 connect=\d+ms service=\d+ms status=201 bytes=5 protocol=http`)

	// What a client writes cannot break the line.
	conn, err := net.Dial("tcp4", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /a\"b\\c\xff HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	res, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	res.Body.Close()
	matches(t, lg.next(t), `at=info method=GET path="/a\\"b\\\\c\\xff" host=h request_id=`+uuid+` fwd="127\.0\.0\.1" dyno=web\.1 connect=\d+ms service=\d+ms status=201 bytes=5 protocol=http`)
}

func TestAppendQuoted(t *testing.T) {
	for in, want := range map[string]string{
		"/x":                  `"/x"`,
		"a\"b":                `"a\"b"`,
		"a\\b":                `"a\\b"`,
		"a\nb\r\x00\x7f\xffé": `"a\x0ab\x0d\x00\x7f\xff\xc3\xa9"`,
	} {
		if got := string(appendQuoted(nil, in)); got != want {
			t.Errorf("appendQuoted(%q) = %s, want %s", in, got, want)
		}
	}
	if got := string(appendBare(nil, "a b")); got != `"a b"` {
		t.Errorf(`appendBare("a b") = %s, want "a b" quoted`, got)
	}
}

// page checks an error page: its status, type, and what it says.
func page(t *testing.T, res *http.Response, body, ctype string, says ...string) {
	t.Helper()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", res.StatusCode)
	}
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, ctype) {
		t.Errorf("Content-Type %q, want %s", got, ctype)
	}
	for _, s := range says {
		if !strings.Contains(body, s) {
			t.Errorf("the error page does not say %q:\n%s", s, body)
		}
	}
}

// noDyno is the end of the log line of a request no process was tried for.
const noDyno = ` fwd="127\.0\.0\.1" dyno= connect= service= status=503 bytes=\d+ protocol=http`

func TestH10(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Booting("web.1", 101)
	r.Down("web.1", 101, Down{Crashed: true, Detail: "exited with code 1"})
	r.Up("web.2", 102, deadPort(t))
	r.Down("web.2", 102, Down{Crashed: true, Detail: "killed by SIGKILL"})
	c := newClient(t)

	res, body := get(t, c, url, "Accept", "text/html,*/*")
	page(t, res, body, "text/html", "H10", "App crashed", "web.1", "exited with code 1", "web.2", "killed by SIGKILL", "ganger restart web")
	line := lg.next(t)
	matches(t, line, `at=error code=H10 desc="App crashed" method=GET path="/" host=\S+ request_id=`+uuid+noDyno)
	if !strings.Contains(line, " bytes="+strconv.Itoa(len(body))+" ") {
		t.Errorf("log line %q: want bytes=%d", line, len(body))
	}

	res, body = get(t, c, url)
	page(t, res, body, "text/plain", "H10 App crashed", "web.1: exited with code 1")
	lg.next(t)
}

func TestH14(t *testing.T) {
	r, url, lg := start(t, 0)
	c := newClient(t)

	res, body := get(t, c, url)
	page(t, res, body, "text/plain", "H14 No web processes running")
	matches(t, lg.next(t), `at=error code=H14 desc="No web processes running" method=GET path="/" host=\S+ request_id=`+uuid+noDyno)

	// Stopped on purpose, one of them after a crash: not every one crashed.
	r.Up("web.1", 101, serveApp(t, says("web.1")))
	r.Down("web.1", 101, Down{Detail: "stopped by ganger stop"})
	r.Booting("web.2", 102)
	r.Down("web.2", 102, Down{Crashed: true, Detail: "exited with code 1"})
	res, body = get(t, c, url)
	page(t, res, body, "text/plain", "H14", "web.1: stopped by ganger stop", "web.2: exited with code 1", "ganger restart web")
	matches(t, lg.next(t), `at=error code=H14 .*`+noDyno)

	// Forgotten: the crashed one alone is left.
	r.Forget("web.1")
	res, body = get(t, c, url)
	page(t, res, body, "text/plain", "H10")
	lg.next(t)
}

func TestPreboot(t *testing.T) {
	r, url, _ := start(t, 0)
	c := newClient(t)
	r.Up("web.1", 101, serveApp(t, says("old")))
	r.Booting("web.1", 201)                            // the successor: ignored
	r.Down("web.1", 201, Down{Crashed: true})          // it failed: ignored
	r.Down("web.1", 999, Down{Detail: "who is this?"}) // not web.1's: ignored
	if _, body := get(t, c, url); body != "old" {
		t.Fatalf("while the successor boots: %q, want old", body)
	}
	r.Up("web.1", 202, serveApp(t, says("new")))
	r.Down("web.1", 101, Down{Detail: "stopped by ganger restart"}) // the old one: ignored
	if _, body := get(t, c, url); body != "new" {
		t.Fatalf("after the switch: %q, want new", body)
	}
}

func TestH12(t *testing.T) {
	r, url, lg := start(t, 200*time.Millisecond)
	release, _ := released(t)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) { <-release }))
	res, body := get(t, newClient(t), url)
	page(t, res, body, "text/plain", "H12 Request timeout", "web.1 sent no response within 200ms")
	matches(t, lg.next(t), `at=error code=H12 desc="Request timeout" method=GET path="/" host=\S+ request_id=`+uuid+` fwd="127\.0\.0\.1" dyno=web\.1 connect=\d+ms service=\d+ms status=503 bytes=\d+ protocol=http`)
}

func TestH13(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	res, body := get(t, newClient(t), url)
	page(t, res, body, "text/plain", "H13 Connection closed without response", "web.1 closed the connection")
	matches(t, lg.next(t), `at=error code=H13 desc="Connection closed without response" method=GET .* dyno=web\.1 connect=\d+ms service=\d+ms status=503 bytes=\d+ protocol=http`)
}

func TestH18(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "0123456789")
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-response
	}))
	// The client gets the response cut off: before its headers, since the
	// router had not flushed them yet, or in the body.
	if res, err := newClient(t).Get(url); err == nil {
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Errorf("the client read %d %q and no error: want the response cut off", res.StatusCode, body)
		}
	}
	matches(t, lg.next(t), `at=error code=H18 desc="Server Request Interrupted" method=GET .* dyno=web\.1 connect=\d+ms service=\d+ms status=200 bytes=10 protocol=http`)
}

func TestH20(t *testing.T) {
	r, url, lg := start(t, 200*time.Millisecond)
	r.Booting("web.1", 101)
	res, body := get(t, newClient(t), url)
	page(t, res, body, "text/plain", "H20 App boot timeout", "web.1: starting", "$PORT")
	matches(t, lg.next(t), `at=error code=H20 desc="App boot timeout" method=GET path="/" host=\S+ request_id=`+uuid+noDyno)
}

func TestWaitForBoot(t *testing.T) {
	r, url, lg := start(t, 0)
	waiting := make(chan struct{}, 1)
	r.table.waiting = func() { waiting <- struct{}{} }
	r.Booting("web.1", 101)
	type answer struct {
		res  *http.Response
		body string
	}
	answers := make(chan answer, 1)
	c := newClient(t)
	go func() {
		res, err := c.Get(url)
		if err != nil {
			answers <- answer{body: err.Error()}
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		answers <- answer{res, string(body)}
	}()
	within(t, waiting, "the request waiting for web.1 to boot")
	r.Up("web.1", 101, serveApp(t, says("booted")))
	a := within(t, answers, "the answer")
	if a.res == nil || a.res.StatusCode != http.StatusOK || a.body != "booted" {
		t.Fatalf("answer %v %q, want 200 booted", a.res, a.body)
	}
	matches(t, lg.next(t), `at=info method=GET .* dyno=web\.1 connect=\d+ms service=\d+ms status=200 bytes=6 protocol=http`)
}

func TestRefused(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Up("web.1", 101, deadPort(t))
	r.Up("web.2", 102, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		io.WriteString(w, "web.2 ")
		io.Copy(w, req.Body)
	}))
	c := newClient(t)
	for i := range 4 { // two of them try web.1 first
		if i%2 == 0 {
			if _, body := get(t, c, url); body != "web.2 " {
				t.Errorf("GET: %q, want web.2's answer", body)
			}
		} else {
			res, err := c.Post(url, "text/plain", strings.NewReader("payload"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != "web.2 payload" {
				t.Errorf("POST: %q, want web.2 with the body", body)
			}
		}
		matches(t, lg.next(t), `at=info .* dyno=web\.2 connect=\d+ms service=\d+ms status=200 .*`)
	}

	r.Up("web.2", 102, deadPort(t))
	res, body := get(t, c, url)
	page(t, res, body, "text/plain", "H21 Backend connection refused", "refused the connection")
	matches(t, lg.next(t), `at=error code=H21 desc="Backend connection refused" method=GET .* dyno=web\.[12] connect=\d+ms service= status=503 bytes=\d+ protocol=http`)
}

func TestH27(t *testing.T) {
	r, url, lg := start(t, 0)
	release, _ := released(t)
	arrived := make(chan struct{}, 1)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/slow", nil)
	done := make(chan error, 1)
	go func() {
		res, err := newClient(t).Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	within(t, arrived, "the request reaching web.1")
	cancel()
	within(t, done, "the client giving up")
	matches(t, lg.next(t), `at=error code=H27 desc="Client Request Interrupted" method=GET path="/slow" .* dyno=web\.1 connect=\d+ms service=\d+ms status=499 bytes=0 protocol=http`)
}

func TestStream(t *testing.T) {
	r, url, _ := start(t, 0)
	release, _ := released(t)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}))
	res, err := newClient(t).Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(res.Body).ReadString('\n')
		got <- line
	}()
	if line := within(t, got, "the first event"); line != "data: one\n" {
		t.Fatalf("first line %q, want the event", line)
	}
}

func TestWebSocket(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		io.Copy(conn, brw) // echo
	}))
	conn, err := net.Dial("tcp4", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the handshake: %v", err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d, want 101", res.StatusCode)
	}
	for _, msg := range []string{"ping\n", "pong pong\n"} {
		io.WriteString(conn, msg)
		if got, err := br.ReadString('\n'); got != msg {
			t.Fatalf("echo: %q (%v), want %q", got, err, msg)
		}
	}
	conn.Close()
	matches(t, lg.next(t), `at=info method=GET path="/ws" host=localhost .* dyno=web\.1 connect=\d+ms service=\d+ms status=101 bytes=0 protocol=http`)
}

func TestNotHTTP(t *testing.T) {
	_, url, lg := start(t, 0)
	conn, err := net.Dial("tcp4", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	io.WriteString(conn, "hello there\r\n\r\n")
	answer, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 400 Bad Request") {
		t.Fatalf("answer %q, want 400", answer)
	}
	matches(t, lg.next(t), `at=error desc="Bad request" method= path="" host= request_id= fwd="127\.0\.0\.1" dyno= connect= service= status=400 bytes=`+strconv.Itoa(len(answer))+` protocol=http`)
}

func TestSwitchWhileInFlight(t *testing.T) {
	r, url, lg := start(t, 0)
	release, releaseOld := released(t)
	arrived := make(chan struct{}, 1)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, "old")
	}))
	c := newClient(t)
	answer := make(chan string, 1)
	go func() {
		res, err := c.Get(url)
		if err != nil {
			answer <- err.Error()
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		answer <- fmt.Sprint(res.StatusCode, " ", string(body))
	}()
	within(t, arrived, "the request reaching the old web.1")
	r.Up("web.1", 201, serveApp(t, says("new")))
	if _, body := get(t, c, url); body != "new" {
		t.Errorf("after the switch: %q, want new", body)
	}
	releaseOld()
	if got := within(t, answer, "the request in flight"); got != "200 old" {
		t.Errorf("the request in flight during the switch: %q, want 200 old", got)
	}
	lg.next(t)
	lg.next(t)
}

// A request routed just before a preboot switch whose connection the old
// instance refuses, as it stops listening on its SIGTERM, goes to the new
// one: the backends up now are tried, not those up when it was routed.
func TestRefusedAfterSwitch(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Up("web.1", 101, deadPort(t))
	newPort := serveApp(t, says("new"))
	dial := r.dial
	var once sync.Once
	r.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		once.Do(func() { r.Up("web.1", 201, newPort) }) // the switch, once the old one was picked
		return dial(ctx, network, addr)
	}
	if res, body := get(t, newClient(t), url); res.StatusCode != 200 || body != "new" {
		t.Fatalf("answer %d %q, want 200 new", res.StatusCode, body)
	}
	matches(t, lg.next(t), `at=info method=GET .* dyno=web\.1 connect=\d+ms service=\d+ms status=200 bytes=3 protocol=http`)
}

// An instance replaced while a request was on its way to it that closes
// the connection unanswered (it stopped listening with the connection in
// its backlog): a GET goes to the new instance; a POST, which may have
// reached the app, gets H13.
func TestClosedBySwitchedInstance(t *testing.T) {
	r, url, lg := start(t, 0)
	newPort := serveApp(t, says("new"))
	for _, method := range []string{"GET", "POST"} {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.Up("web.1", 201, newPort) // the switch
			c.Close()
		}()
		r.Up("web.1", 101, ln.Addr().(*net.TCPAddr).Port)
		var body io.Reader
		if method == "POST" {
			body = strings.NewReader("payload")
		}
		req, err := http.NewRequest(method, url, body)
		if err != nil {
			t.Fatal(err)
		}
		res, err := newClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if method == "GET" {
			if res.StatusCode != 200 || string(answer) != "new" {
				t.Errorf("GET: %d %q, want 200 new", res.StatusCode, answer)
			}
			matches(t, lg.next(t), `at=info method=GET .* dyno=web\.1 connect=\d+ms service=\d+ms status=200 bytes=3 protocol=http`)
			continue
		}
		page(t, res, string(answer), "text/plain", "H13 Connection closed without response")
		matches(t, lg.next(t), `at=error code=H13 desc="Connection closed without response" method=POST .* dyno=web\.1 .* status=503 .*`)
	}
}

// After a switch the router closes its idle connections to the old
// instance, so that a process stopped after its preboot does not wait for
// them (net/http's Shutdown waits up to 5 s for one that never carried a
// request).
func TestSwitchClosesIdleConnections(t *testing.T) {
	r, url, _ := start(t, 0)
	closed := make(chan struct{}, 16)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	old := &http.Server{Handler: says("old"), ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}}
	go old.Serve(ln)
	t.Cleanup(func() { old.Close() })
	r.Up("web.1", 101, ln.Addr().(*net.TCPAddr).Port)
	c := newClient(t)
	if _, body := get(t, c, url); body != "old" {
		t.Fatalf("before the switch: %q", body)
	}
	select {
	case <-closed:
		t.Fatal("the router closed its connection to web.1 while it was up")
	default:
	}
	r.Up("web.1", 201, serveApp(t, says("new")))
	within(t, closed, "the old instance's connection closed by the router")
	if _, body := get(t, c, url); body != "new" {
		t.Fatalf("after the switch: %q", body)
	}
}

// A connection to an instance that is replaced or down while a request
// is on it is closed by the router once the request ends, not kept for
// another: the old process waits for it no longer than for the request.
func TestRetiredConnectionCloses(t *testing.T) {
	for _, how := range []string{"switch", "down"} {
		t.Run(how, func(t *testing.T) {
			r, url, lg := start(t, 0)
			closed := make(chan struct{}, 16)
			arrived := make(chan struct{}, 1)
			release, releaseOld := released(t)
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			old := &http.Server{
				Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					arrived <- struct{}{}
					<-release
					io.WriteString(w, "old")
				}),
				ConnState: func(_ net.Conn, s http.ConnState) {
					if s == http.StateClosed {
						closed <- struct{}{}
					}
				},
			}
			go old.Serve(ln)
			t.Cleanup(func() { old.Close() })
			r.Up("web.1", 101, ln.Addr().(*net.TCPAddr).Port)
			answer := make(chan string, 1)
			go func() {
				res, err := newClient(t).Get(url)
				if err != nil {
					answer <- err.Error()
					return
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				answer <- fmt.Sprint(res.StatusCode, " ", string(body))
			}()
			within(t, arrived, "the request reaching web.1")
			if how == "switch" {
				r.Up("web.1", 201, serveApp(t, says("new")))
			} else {
				r.Down("web.1", 101, Down{Detail: "stopped by ganger stop"})
			}
			select {
			case <-closed:
				t.Fatal("the router closed the connection of a request in flight")
			default:
			}
			releaseOld()
			if got := within(t, answer, "the request in flight"); got != "200 old" {
				t.Errorf("the request in flight: %q, want 200 old", got)
			}
			within(t, closed, "the connection of the request that ended closed by the router")
			lg.next(t)
		})
	}
}

// closeSignal is a listener that says when it is closed.
type closeSignal struct {
	net.Listener
	closed chan struct{}
}

func (l closeSignal) Close() error {
	err := l.Listener.Close()
	select {
	case l.closed <- struct{}{}:
	default:
	}
	return err
}

func TestServeDrains(t *testing.T) {
	lg := newLines()
	r := New(Options{Log: lg})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx, closeSignal{ln, closed}) }()

	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, "done")
	}))
	answer := make(chan string, 1)
	go func() {
		res, err := newClient(t).Get("http://" + ln.Addr().String())
		if err != nil {
			answer <- err.Error()
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		answer <- fmt.Sprint(res.StatusCode, " ", string(body), " ", err)
	}()
	within(t, arrived, "the request reaching web.1")
	cancel()
	within(t, closed, "Serve closing its listener")
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	if got := within(t, answer, "the request in flight"); got != "200 done <nil>" {
		t.Errorf("the request in flight at shutdown: %q, want 200 done", got)
	}
	if err := within(t, served, "Serve returning"); err != nil {
		t.Errorf("Serve: %v", err)
	}
	matches(t, lg.next(t), `at=info .* status=200 bytes=4 protocol=http`)
}

func TestServeFails(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = New(Options{}).Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "router: serving on") {
		t.Errorf("Serve on a closed listener: %v, want an error", err)
	}
}
