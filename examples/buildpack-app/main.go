// Command hello-server is the example app built by ./buildpack: a tiny web
// server that binds $PORT, and a release-phase task (-release).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is set by the buildpack from SOURCE_VERSION.
var version = "dev"

func main() {
	release := flag.Bool("release", false, "run the release-phase task and exit")
	flag.Parse()
	greeting := os.Getenv("GREETING")
	if *release {
		fmt.Printf("release phase: %q, version %s: nothing to migrate\n", greeting, version)
		return
	}
	if err := serve(greeting); err != nil {
		fmt.Fprintln(os.Stderr, "hello-server:", err)
		os.Exit(1)
	}
}

func serve(greeting string) error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "5000"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s from buildpack-app (version %s, dyno %s)\n", greeting, version, os.Getenv("DYNO"))
	})
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	done := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Println("shutting down")
	return <-done
}
