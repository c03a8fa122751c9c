package router

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dial connects to the router at url, with a deadline of wait.
func dial(t *testing.T, url string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp4", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(wait))
	return conn, bufio.NewReader(conn)
}

// readResponse reads a response and its body whole.
func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return res, string(body)
}

// rawApp serves each connection with handle on 127.0.0.1 until the test
// ends and returns its port and the count of connections accepted.
func rawApp(t *testing.T, handle func(net.Conn, *bufio.Reader)) (int, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			t.Cleanup(func() { c.Close() })
			go func() {
				defer c.Close()
				handle(c, bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, &n
}

func TestBadRequests(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		t.Errorf("the app got %s %s %v", req.Method, req.RequestURI, req.Header)
	}))
	for _, c := range []struct {
		name, req string
		status    int
	}{
		{"both lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"bad length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5x\r\n\r\nhello", 400},
		{"negative length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
		{"two lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
		{"other coding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
		{"coding then chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400},
		{"two codings", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\r\n c\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost: h\r\nX-A : b\r\n\r\n", 400},
		{"bad name", "GET / HTTP/1.1\r\nHost: h\r\nX(A): b\r\n\r\n", 400},
		{"control byte", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01b\r\n\r\n", 400},
		{"bare CR", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"absolute target, no host", "GET http://h/ HTTP/1.1\r\n\r\n", 400},
		{"no target", "GET HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"relative target", "GET x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"bad method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"bad version", "GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400},
		{"HTTP/2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
		{"too large", "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X-Big: "+strings.Repeat("b", 1000)+"\r\n", 1100) + "\r\n", 431},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, _ := dial(t, url)
			go io.WriteString(conn, c.req) // the router may answer before reading it all
			answer, _ := io.ReadAll(conn)
			want := "HTTP/1.1 " + strconv.Itoa(c.status) + " " + statusText(c.status)
			if !strings.HasPrefix(string(answer), want) {
				t.Fatalf("answer %q, want %s", answer, want)
			}
			matches(t, lg.next(t), `at=error desc="Bad request" method= path="" host= request_id= fwd="127\.0\.0\.1" dyno= connect= service= status=`+
				strconv.Itoa(c.status)+` bytes=`+strconv.Itoa(len(answer))+` protocol=http`)
		})
	}
}

func TestChunked(t *testing.T) {
	r, url, lg := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		if len(req.TransferEncoding) != 1 || req.TransferEncoding[0] != "chunked" {
			t.Errorf("the app got Transfer-Encoding %q, want chunked", req.TransferEncoding)
		}
		w.Header().Set("Trailer", "X-Sum")
		h := sha256.New()
		io.Copy(io.MultiWriter(w, h), req.Body)
		w.Header().Set("X-Sum", fmt.Sprintf("%x", h.Sum(nil)))
		w.Header().Set("X-Got-Trailer", req.Trailer.Get("X-Client")) // too late for the head: not sent
	}))
	conn, br := dial(t, url)
	body := strings.Repeat("0123456789", 1000)
	var req bytes.Buffer
	req.WriteString("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Client\r\n\r\n")
	for i := 0; i < len(body); i += 3000 {
		part := body[i:min(i+3000, len(body))]
		fmt.Fprintf(&req, "%x;ext=1\r\n%s\r\n", len(part), part)
	}
	req.WriteString("0\r\nX-Client: yes\r\n\r\n")
	conn.Write(req.Bytes())
	res, got := readResponse(t, br, "POST")
	if got != body {
		t.Fatalf("echo of %d bytes: got %d", len(body), len(got))
	}
	if len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
		t.Errorf("the client got Transfer-Encoding %q, want chunked", res.TransferEncoding)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256([]byte(body))); res.Trailer.Get("X-Sum") != want {
		t.Errorf("trailer X-Sum %q, want %q", res.Trailer.Get("X-Sum"), want)
	}
	matches(t, lg.next(t), `at=info method=POST path="/echo" .* status=200 bytes=`+strconv.Itoa(len(body))+` protocol=http`)

	// A malformed chunk: 400, and the connection closes.
	io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
	answer, _ := io.ReadAll(br)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 400 Bad Request") && !strings.HasPrefix(string(answer), "HTTP/1.1 200") {
		t.Errorf("a malformed chunk: %q, want 400 (or the app's answer, cut off)", answer)
	}
	lg.next(t)
}

func TestLargeBodies(t *testing.T) {
	r, url, lg := start(t, 0)
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(rand.Uint32())
	}
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		if req.Method == "GET" {
			w.Write(big) // unknown length: chunked
			return
		}
		w.Header().Set("Content-Length", req.Header.Get("Content-Length"))
		io.Copy(w, req.Body)
	}))
	c := newClient(t)
	res, err := c.Post(url, "application/octet-stream", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || !bytes.Equal(got, big) || res.ContentLength != int64(len(big)) {
		t.Fatalf("echo of 8 MiB: %d bytes (length %d), %v", len(got), res.ContentLength, err)
	}
	lg.next(t)
	_, body := get(t, c, url)
	if body != string(big) {
		t.Fatalf("GET of 8 MiB: %d bytes, not the same", len(body))
	}
	matches(t, lg.next(t), `at=info .* status=200 bytes=`+strconv.Itoa(len(big))+` protocol=http`)
}

func TestExpectContinue(t *testing.T) {
	r, url, _ := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body) // reading it sends 100 Continue
		io.WriteString(w, "got "+string(body))
	}))
	conn, br := dial(t, url)
	io.WriteString(conn, "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim response %q (%v), want 100 Continue", line, err)
	}
	if line, _ = br.ReadString('\n'); line != "\r\n" {
		t.Fatalf("after 100 Continue: %q, want the end of its head", line)
	}
	io.WriteString(conn, "hello")
	if _, body := readResponse(t, br, "PUT"); body != "got hello" {
		t.Fatalf("body %q, want got hello", body)
	}
}

func TestHTTP10(t *testing.T) {
	r, url, _ := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/chunked" {
			io.WriteString(w, "a")
			http.NewResponseController(w).Flush() // chunked from here
			io.WriteString(w, "b")
			return
		}
		io.WriteString(w, "host="+req.Host)
	}))
	// No keep-alive: the answer, then the end.
	conn, _ := dial(t, url)
	io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n")
	all, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(all), "HTTP/1.1 200 OK\r\n") || !strings.Contains(string(all), "\r\n\r\nhost=127.0.0.1:") {
		t.Fatalf("HTTP/1.0 answer %q", all)
	}
	// Keep-alive: two requests on the connection, a chunked answer as bytes.
	conn, br := dial(t, url)
	io.WriteString(conn, "GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n")
	res, body := readResponse(t, br, "GET")
	if body != "host=h" || res.Header.Get("Connection") != "keep-alive" {
		t.Fatalf("keep-alive answer %q, Connection %q", body, res.Header.Get("Connection"))
	}
	io.WriteString(conn, "GET /chunked HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n")
	rest, _ := io.ReadAll(br)
	if !strings.HasSuffix(string(rest), "\r\n\r\nab") || strings.Contains(string(rest), "chunked") {
		t.Fatalf("chunked answer to HTTP/1.0: %q, want the bytes, then the end", rest)
	}
}

func TestPipelining(t *testing.T) {
	r, url, _ := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		io.WriteString(w, req.URL.Path)
		io.Copy(w, req.Body)
	}))
	conn, br := dial(t, url)
	io.WriteString(conn, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n+abHEAD /3 HTTP/1.1\r\nHost: h\r\n\r\nGET /4 HTTP/1.1\r\nHost: h\r\n\r\n")
	for _, want := range []string{"/1", "/2+ab", "", "/4"} {
		method := "GET"
		if want == "" {
			method = "HEAD"
		}
		if _, body := readResponse(t, br, method); body != want {
			t.Fatalf("pipelined answer %q, want %q", body, want)
		}
	}
}

func TestHopByHop(t *testing.T) {
	r, url, _ := start(t, 0)
	got := make(chan http.Header, 1)
	port, _ := rawApp(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		got <- req.Header
		io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: X-Private\r\nX-Private: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: x\r\nUpgrade: h2c\r\nX-Public: 1\r\nContent-Length: 2\r\n\r\nok")
	})
	r.Up("web.1", 101, port)
	conn, br := dial(t, url)
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Secret, keep-alive\r\nX-Secret: 1\r\nKeep-Alive: 300\r\n"+
		"Proxy-Authorization: x\r\nProxy-Connection: keep-alive\r\nTE: trailers, deflate\r\nUpgrade: foo\r\nX-Forwarded-Host: evil\r\nForwarded: for=1\r\nX-Kept: 1\r\n\r\n")
	h := within(t, got, "the request at the app")
	for _, k := range []string{"Connection", "X-Secret", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Upgrade", "X-Forwarded-Host", "Forwarded"} {
		if v, ok := h[k]; ok {
			t.Errorf("the app got %s: %q", k, v)
		}
	}
	if h.Get("Te") != "trailers" || h.Get("X-Kept") != "1" {
		t.Errorf("the app got Te %q and X-Kept %q, want trailers and 1", h.Get("Te"), h.Get("X-Kept"))
	}
	res, body := readResponse(t, br, "GET")
	for _, k := range []string{"Connection", "X-Private", "Keep-Alive", "Proxy-Authenticate", "Upgrade"} {
		if v, ok := res.Header[k]; ok {
			t.Errorf("the client got %s: %q", k, v)
		}
	}
	if body != "ok" || res.Header.Get("X-Public") != "1" || res.Header.Get("Date") == "" {
		t.Errorf("the client got %q, X-Public %q, Date %q", body, res.Header.Get("X-Public"), res.Header.Get("Date"))
	}
}

func TestUntilClose(t *testing.T) {
	r, url, lg := start(t, 0)
	port, _ := rawApp(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err == nil {
			io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, until the end")
		}
	})
	r.Up("web.1", 101, port)
	conn, br := dial(t, url)
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	res, body := readResponse(t, br, "GET")
	if body != "hello, until the end" || !res.Close {
		t.Fatalf("body %q, close %v: want the whole body, then the end", body, res.Close)
	}
	matches(t, lg.next(t), `at=info .* status=200 bytes=20 protocol=http`)
}

func TestNoBody(t *testing.T) {
	r, url, _ := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.WriteHeader(304)
		default:
			w.Header().Set("Content-Length", "100")
			if req.Method != "HEAD" {
				io.WriteString(w, strings.Repeat("x", 100))
			}
		}
	}))
	conn, br := dial(t, url)
	for _, c := range []struct {
		method, path string
		status       int
		length       int64
	}{{"HEAD", "/", 200, 100}, {"GET", "/204", 204, 0}, {"GET", "/304", 304, 0}, {"GET", "/", 200, 100}} {
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: h\r\n\r\n", c.method, c.path)
		res, body := readResponse(t, br, c.method)
		if res.StatusCode != c.status || body != "" && int64(len(body)) != c.length || c.method == "HEAD" && res.ContentLength != c.length {
			t.Errorf("%s %s: %d, %d bytes (length %d)", c.method, c.path, res.StatusCode, len(body), res.ContentLength)
		}
	}
}

func TestStaleConnection(t *testing.T) {
	r, url, _ := start(t, 0)
	closed := make(chan struct{}, 10)
	port, accepted := rawApp(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		// Keep-alive as far as the router can tell, then closed.
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body)+2, "ok"+string(body))
		c.Close()
		closed <- struct{}{}
	})
	r.Up("web.1", 101, port)
	c := newClient(t)
	if _, body := get(t, c, url); body != "ok" {
		t.Fatalf("first: %q", body)
	}
	within(t, closed, "the app closing its connection")
	if _, body := get(t, c, url); body != "ok" {
		t.Fatalf("GET on a connection the app closed: %q, want it sent again on a new one", body)
	}
	within(t, closed, "the app closing its connection")
	res, err := c.Post(url, "text/plain", strings.NewReader("+body"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "ok+body" {
		t.Fatalf("POST after the app closed the idle connection: %d %q", res.StatusCode, body)
	}
	if n := accepted.Load(); n != 3 {
		t.Errorf("the app accepted %d connections, want 3", n)
	}
}

func TestPool(t *testing.T) {
	r, url, _ := start(t, 0)
	port, accepted := rawApp(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	r.Up("web.1", 101, port)
	c := newClient(t)
	for range 20 {
		if _, body := get(t, c, url); body != "ok" {
			t.Fatalf("answer %q", body)
		}
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("20 requests one after the other took %d connections to the app, want 1", n)
	}
}

// TestServeEnds checks that Serve, once its context ends, cuts off an
// upgraded connection, logs it, and leaves no goroutine behind.
func TestServeEnds(t *testing.T) {
	port := serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		io.Copy(conn, brw)
	})
	before := runtime.NumGoroutine()
	lg := newLines()
	r := New(Options{Log: lg, Timeout: time.Second})
	r.Up("web.1", 101, port)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	c := newClient(t)
	get(t, c, url)
	lg.next(t)
	conn, br := dial(t, url)
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	if res, _ := http.ReadResponse(br, nil); res == nil || res.StatusCode != 101 {
		t.Fatalf("no upgrade: %v", res)
	}
	cancel()
	if err := within(t, served, "Serve returning"); err != nil {
		t.Fatal(err)
	}
	matches(t, lg.next(t), `at=info method=GET path="/ws" .* status=101 bytes=0 protocol=http`)
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("the upgraded connection is still open after Serve")
	}
	conn.Close()
	c.CloseIdleConnections()
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before Serve:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // polling a count that has no event to wait on
	}
}

func TestClientLeavesStream(t *testing.T) {
	r, url, lg := start(t, 0)
	ended := make(chan struct{}, 1)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		<-req.Context().Done() // the router closed the connection: the client left
		ended <- struct{}{}
	}))
	conn, br := dial(t, url)
	io.WriteString(conn, "GET /events HTTP/1.1\r\nHost: h\r\n\r\n")
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(res.Body).ReadString('\n'); line != "data: one\n" {
		t.Fatalf("first line %q, want the event", line)
	}
	conn.Close()
	within(t, ended, "the app seeing the client leave")
	matches(t, lg.next(t), `at=error code=H27 desc="Client Request Interrupted" method=GET path="/events" .* status=499 bytes=11 protocol=http`)
}

// TestConcurrent sends requests of every framing from many clients at
// once, over keep-alive connections, to two instances: each answer must be
// its own request's.
func TestConcurrent(t *testing.T) {
	r, url, lg := start(t, 0)
	echo := func(w http.ResponseWriter, req *http.Request) {
		// Read whole first: net/http's response.ReadFrom, which io.Copy
		// would use, ends a chunked answer after its first 512 bytes here
		// (as much when asked directly).
		body, _ := io.ReadAll(req.Body)
		io.WriteString(w, req.Method+" "+req.URL.Path+" "+string(body))
	}
	r.Up("web.1", 101, serveApp(t, echo))
	r.Up("web.2", 102, serveApp(t, echo))
	go func() {
		for range lg.ch { // the lines are not the point here
		}
	}()
	c := newClient(t)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 40 {
				path := fmt.Sprintf("/%d/%d", g, i)
				payload := strings.Repeat(path, 1+i*50)
				var res *http.Response
				var err error
				switch i % 3 {
				case 0:
					res, err = c.Get(url + path)
					payload = ""
				case 1:
					res, err = c.Post(url+path, "text/plain", strings.NewReader(payload))
				default: // an unknown length: chunked
					res, err = c.Post(url+path, "text/plain", io.MultiReader(strings.NewReader(payload)))
				}
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				want := map[bool]string{true: "GET", false: "POST"}[i%3 == 0] + " " + path + " " + payload
				if err != nil || string(body) != want {
					errs <- fmt.Errorf("%s: %d bytes (%v), want %d", path, len(body), err, len(want))
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := within(t, errs, "a client's requests"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConnectionNamesContentLength checks that a Connection header naming
// Content-Length does not strip the framing: else the request body reaches
// the app as the next request on its connection (smuggled), and a
// response's body has no end the client can find.
func TestConnectionNamesContentLength(t *testing.T) {
	r, url, _ := start(t, 0)
	got := make(chan string, 10)
	port, _ := rawApp(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(req.Body)
			got <- req.Method + " " + req.URL.Path + " " + string(body)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	r.Up("web.1", 101, port)
	conn, br := dial(t, url)
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
	io.WriteString(conn, "POST /p HTTP/1.1\r\nHost: h\r\nConnection: Content-Length\r\nContent-Length: "+
		strconv.Itoa(len(smuggled))+"\r\n\r\n"+smuggled)
	if g := within(t, got, "the request at the app"); g != "POST /p "+smuggled {
		t.Errorf("the app got %q, want the POST with its body", g)
	}
	res, err := http.ReadResponse(br, &http.Request{Method: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ContentLength != 2 {
		t.Fatalf("the client got Content-Length %d, want 2", res.ContentLength)
	}
	if body, _ := io.ReadAll(res.Body); string(body) != "ok" {
		t.Errorf("body %q", body)
	}
	select {
	case g := <-got:
		t.Errorf("the app got a second request: %q", g)
	default:
	}
}

// TestStrayBytesOnPooledConnection checks that bytes an app sends beyond a
// response (more than its Content-Length, a body to a HEAD, whether with
// the response or after it) never become the response to the next request
// on that connection, another client's perhaps.
func TestStrayBytesOnPooledConnection(t *testing.T) {
	r, url, _ := start(t, 0)
	headRead := make(chan struct{})
	strayed := make(chan struct{})
	port, _ := rawApp(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			switch req.URL.Path {
			case "/more":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
			case "/head":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
				<-headRead
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
				close(strayed)
			default:
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
			}
		}
	})
	r.Up("web.1", 101, port)
	c := newClient(t)
	if _, body := get(t, c, url+"/more"); body != "ok" {
		t.Fatalf("first answer %q", body)
	}
	if _, body := get(t, c, url+"/next"); body != "fresh" {
		t.Errorf("the request after a response with bytes beyond its length got %q, want fresh", body)
	}
	conn, cbr := dial(t, url)
	io.WriteString(conn, "HEAD /head HTTP/1.1\r\nHost: h\r\n\r\n")
	readResponse(t, cbr, "HEAD")
	close(headRead)
	within(t, strayed, "the app sending bytes after its response")
	if _, body := get(t, c, url+"/next"); body != "fresh" {
		t.Errorf("the request after bytes came on an idle connection got %q, want fresh", body)
	}
}

// TestHTTP10TransferEncoding checks that an HTTP/1.0 request with
// Transfer-Encoding, whose framing cannot be trusted (RFC 9112 6.1), closes
// the connection once answered: what follows it is never read as a request.
func TestHTTP10TransferEncoding(t *testing.T) {
	r, url, _ := start(t, 0)
	got := make(chan string, 10)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		got <- req.URL.Path
		io.WriteString(w, "ok")
	}))
	conn, br := dial(t, url)
	io.WriteString(conn, "POST /p HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"GET /smuggled HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n")
	res, body := readResponse(t, br, "POST")
	if body != "ok" || !res.Close {
		t.Errorf("answer %q, close %v: want ok, then the end", body, res.Close)
	}
	if p := within(t, got, "the request at the app"); p != "/p" {
		t.Errorf("the app got %s", p)
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Errorf("after the answer: %q", rest)
	}
	select {
	case p := <-got:
		t.Errorf("the app got %s too", p)
	default:
	}
}

// TestAbsoluteForm checks that a request in absolute form reaches the app
// in origin form with its path whatever its host, and that host as Host.
func TestAbsoluteForm(t *testing.T) {
	r, url, _ := start(t, 0)
	r.Up("web.1", 101, serveApp(t, func(w http.ResponseWriter, req *http.Request) {
		io.WriteString(w, req.Host+" "+req.RequestURI)
	}))
	conn, br := dial(t, url)
	for target, want := range map[string]string{
		"http://example.com/x?y": "example.com /x?y",
		"http://h/x":             "h /x",
		"HTTPS://tp:1?q":         "tp:1 /?q",
		"http://http/":           "http /",
	} {
		io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: other\r\n\r\n")
		if _, body := readResponse(t, br, "GET"); body != want {
			t.Errorf("GET %s: the app got %q, want %q", target, body, want)
		}
	}
}
