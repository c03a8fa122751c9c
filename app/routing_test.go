package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gangerdev/ganger/app/router"
	"github.com/gangerdev/ganger/runner"
)

// answerSink sends a request through the router at each exit it is
// given: what a client gets the moment the output says it.
type answerSink struct {
	t       *testing.T
	url     string
	answers *[]string
}

func (s answerSink) Lines(string) runner.LineWriter { return nil }

func (s answerSink) Event(e runner.Event) error {
	if e.Kind != runner.Exited {
		return nil
	}
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 20 * time.Second}
	res, err := c.Get(s.url)
	if err != nil {
		s.t.Errorf("GET through the router: %v", err)
		return nil
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	first, _, _ := strings.Cut(string(body), "\n")
	*s.answers = append(*s.answers, first)
	return nil
}

// serveRouter serves rt on 127.0.0.1 until the test ends and returns its
// URL.
func serveRouter(t *testing.T, rt *router.Router) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- rt.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + "/"
}

// The router learns of a web process's exit before the output says it:
// once "web.1 exited" is shown, a request gets H10, not a refused
// connection.
func TestRouterSinkTellsTheRouterFirst(t *testing.T) {
	rt := router.New(router.Options{})
	var answers []string
	sink := routerSink{Sink: answerSink{t: t, url: serveRouter(t, rt), answers: &answers}, rt: rt}
	sink.Event(runner.Event{Kind: runner.Started, Name: "web.1", PID: 101})
	rt.Up("web.1", 101, deadPort(t))
	sink.Event(runner.Event{Kind: runner.Exited, Name: "web.1", PID: 101, Code: 1})
	if want := "H10 App crashed"; len(answers) != 1 || answers[0] != want {
		t.Errorf("answer when the exit is shown: %q, want %q", answers, want)
	}
}

// deadPort returns a port nothing listens on.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
