//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fakewebMain is a web process for the router's tests: an HTTP server on
// 127.0.0.1:$PORT. When the file named by $FAILBOOT exists it exits 1 at
// once (a broken reload). On SIGTERM it shuts down gracefully: the requests
// in flight finish, the ones held open (/sse, /hang) end. Endpoints:
//
//	/         "hello from $PS pid N"
//	/headers  the request's headers, "Name: value" a line, sorted
//	/slow     answers after ?ms=N milliseconds; with &term=1 it first waits
//	          for SIGTERM (a request in flight when the reload stops it)
//	/sse      an event stream: one event at once, flushed, then the handler
//	          stays until the client leaves or SIGTERM
//	/ws       a WebSocket-like upgrade: 101 Switching Protocols, then every
//	          byte sent back
//	/close    the connection closed without a response (H13)
//	/hang     no response until the client leaves or SIGTERM (H12)
//	/crash    exit 3 at once
//
// It prints one line when it listens and one when a request starts on /slow
// or /sse, so that tests wait on ganger's output rather than sleep.
func fakewebMain() {
	name, pid := os.Getenv("PS"), os.Getpid()
	if f := os.Getenv("FAILBOOT"); f != "" {
		if _, err := os.Stat(f); err == nil {
			fmt.Printf("fakeweb: %s exists: failing the boot\n", f)
			os.Exit(1)
		}
	}
	term, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	say := func(format string, args ...any) { fmt.Printf("fakeweb: "+format+"\n", args...) }

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s pid %d\n", name, pid)
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		var lines []string
		for k, vs := range r.Header {
			for _, v := range vs {
				lines = append(lines, k+": "+v)
			}
		}
		slices.Sort(lines)
		fmt.Fprintf(w, "Host: %s\n%s\n", r.Host, strings.Join(lines, "\n"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		say("slow request in flight on pid %d", pid)
		if r.URL.Query().Get("term") != "" {
			select {
			case <-term.Done():
			case <-r.Context().Done():
				return
			}
		}
		time.Sleep(time.Duration(ms) * time.Millisecond) // what a slow request does
		fmt.Fprintf(w, "slow done by %s pid %d\n", name, pid)
	})
	mux.HandleFunc("/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: first from pid %d\n\n", pid)
		http.NewResponseController(w).Flush()
		say("sse stream open on pid %d", pid)
		select {
		case <-term.Done():
		case <-r.Context().Done():
		}
		say("sse stream closed on pid %d", pid)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want Upgrade: websocket", http.StatusBadRequest)
			return
		}
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		io.Copy(c, rw) // echo until the client closes
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-term.Done():
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		say("crashing")
		os.Exit(3)
	})

	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeweb:", err)
		os.Exit(99)
	}
	srv := &http.Server{Handler: mux}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	say("%s listening on %s", name, ln.Addr())
	select {
	case err := <-served:
		fmt.Fprintln(os.Stderr, "fakeweb:", err)
		os.Exit(99)
	case <-term.Done():
	}
	say("SIGTERM: finishing the requests in flight")
	if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "fakeweb:", err)
		os.Exit(99)
	}
	say("stopped")
}
