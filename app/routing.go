package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gangerdev/ganger/app/router"
	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/logmux"
)

// Routing asks for the platform's router in front of web ("ganger start
// --router"): it listens on the base port and the processes are laid out
// from the next port up, web.N on base+N and, while a preboot replaces it,
// on base+N+twinOffset.
type Routing struct {
	On      *bool         // nil: ganger.yml's router: decides
	Timeout time.Duration // no response headers from web within it: 503, H12; 0 means 30 s
}

// RouterName is the name of the router's log lines.
const RouterName = "router"

// twinOffset is how far above its own port a web instance's preboot
// successor listens: half of a type's block of ports (procfile.MaxInstances).
const twinOffset = procfile.MaxInstances / 2

// webType is the process type the router sends requests to.
const webType = "web"

// routed is the router of one start, and where it listens.
type routed struct {
	rt   *router.Router
	port int
	lns  []net.Listener
}

// routerOn says whether routing is asked for, by the flag or ganger.yml.
func (r Routing) on(fileSays bool) bool {
	if r.On != nil {
		return *r.On
	}
	return fileSays
}

// prebootWeb gives every web spec its preboot: two ports to alternate
// between. Under the router a type has room for half as many instances.
func prebootWeb(specs []runner.Spec, insts []procfile.Instance) error {
	for i := range specs {
		if specs[i].Type != webType {
			continue
		}
		if insts[i].Num > twinOffset {
			return &UsageError{
				Err:  fmt.Errorf("too many web instances for --router (%d): at most %d, because each needs a second port for preboot", insts[i].Num, twinOffset),
				Hint: "scale web down with -m web=N",
			}
		}
		specs[i].Preboot = &runner.Preboot{Ports: [2]int{specs[i].Port, specs[i].Port + twinOffset}}
	}
	return nil
}

// listenRouter listens on port on the loopback addresses: 127.0.0.1, and
// ::1 where the host has IPv6.
func listenRouter(port int) ([]net.Listener, error) {
	v4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("router: listen on port %d: %w; hint: use -p to choose another base port", port, err)
	}
	lns := []net.Listener{v4}
	if v6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		lns = append(lns, v6)
	} else if !errors.Is(err, syscall.EADDRNOTAVAIL) && !errors.Is(err, syscall.EAFNOSUPPORT) {
		v4.Close()
		return nil, fmt.Errorf("router: listen on [::1]:%d: %w; hint: use -p to choose another base port", port, err)
	}
	return lns, nil
}

// serve runs the router until ctx ends. A failure is said on the output
// and leaves the processes running.
func (rd *routed) serve(mux *logmux.Mux) besideFunc {
	return func(ctx context.Context, _ *runner.Supervisor) {
		errs := make(chan error, len(rd.lns))
		for _, ln := range rd.lns {
			go func() { errs <- rd.rt.Serve(ctx, ln) }()
		}
		for range rd.lns {
			if err := <-errs; err != nil {
				mux.Event(runner.Event{Kind: runner.System, Time: time.Now(), Msg: fmt.Sprintf("router failed (%v); the processes keep running on their own ports", err)})
			}
		}
	}
}

// status is the router's row in ganger ps.
func (rd *routed) status() control.Process {
	return control.Process{Name: RouterName, Type: RouterName, State: string(runner.StateRunning), PID: os.Getpid(), Port: rd.port}
}

// routerSink tells the router what becomes of the web processes, before
// the output says it: once "web.1 ready" or "web.1 exited" is shown, the
// router acts on it.
type routerSink struct {
	runner.Sink
	rt *router.Router
}

func (s routerSink) Event(e runner.Event) error {
	if strings.HasPrefix(e.Name, webType+".") {
		s.route(e)
	}
	return s.Sink.Event(e)
}

// route passes a web process's event on to the router.
func (s routerSink) route(e runner.Event) {
	switch e.Kind {
	case runner.Started:
		s.rt.Booting(e.Name, e.PID)
	case runner.Ready:
		s.rt.Up(e.Name, e.PID, e.Port)
	case runner.Exited:
		d := router.Down{Crashed: !e.Asked, Detail: logmux.DescribeExit(e.Code, e.Signal != 0, runner.SignalName(e.Signal))}
		if e.Asked {
			d.Detail = "stopped by ganger"
		}
		s.rt.Down(e.Name, e.PID, d)
	case runner.StartFailed:
		s.rt.Booting(e.Name, 0) // known, with no pid: its Down below counts
		s.rt.Down(e.Name, 0, router.Down{Crashed: true, Detail: fmt.Sprintf("could not be started: %v", e.Err)})
	}
}

// announce is the line that says where the app is.
func (rd *routed) announce(specs []runner.Spec) string {
	var webs []string
	for _, s := range specs {
		if s.Type == webType {
			webs = append(webs, fmt.Sprintf("%s (port %d)", s.Name, s.Port))
		}
	}
	if len(webs) == 0 {
		return fmt.Sprintf("router on http://localhost:%d/ with no web process to send requests to (it answers H14)", rd.port)
	}
	return fmt.Sprintf("router on http://localhost:%d/ in front of %s", rd.port, strings.Join(webs, ", "))
}
