package router

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait bounds every wait for a condition; it is never reached when the
// code works, however loaded the machine.
const wait = 20 * time.Second

// lines is a LineWriter that hands each log line to the test.
type lines struct{ ch chan string }

func newLines() *lines { return &lines{ch: make(chan string, 10000)} }

func (l *lines) WriteLines(p []byte) error {
	for line := range strings.Lines(string(p)) {
		l.ch <- strings.TrimSuffix(line, "\n")
	}
	return nil
}

// next returns the next line logged.
func (l *lines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l.ch:
		return s
	case <-time.After(wait):
		t.Fatalf("no log line within %v", wait)
		return ""
	}
}

// start serves a new router on 127.0.0.1 until the test ends and returns
// it, its base URL and its log.
func start(t *testing.T, timeout time.Duration) (*Router, string, *lines) {
	t.Helper()
	lg := newLines()
	r := New(Options{Timeout: timeout, Log: lg})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(wait):
			t.Errorf("Serve did not return within %v of its context ending", wait)
		}
	})
	return r, "http://" + ln.Addr().String(), lg
}

// serveApp serves h on 127.0.0.1 until the test ends and returns its port.
func serveApp(t *testing.T, h http.HandlerFunc) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// says is a backend handler that answers with s.
func says(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) { io.WriteString(w, s) }
}

// deadPort returns a port nothing listens on: connecting to it is refused.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// released returns a channel closed by release or else when the test ends
// (before the servers close: cleanups run last registered first), for
// handlers that block until then.
func released(t *testing.T) (ch chan struct{}, release func()) {
	ch = make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return ch, release
}

// newClient returns a keep-alive client that never uses a proxy.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: wait}
}

// get sends a GET with the given headers (and Host) and returns the
// response, its body read whole.
func get(t *testing.T, c *http.Client, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Add(header[i], header[i+1])
		}
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return res, string(body)
}

// within receives from ch, failing the test after wait.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("%s: nothing within %v", what, wait)
		var zero T
		return zero
	}
}
