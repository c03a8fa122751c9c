package router

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// countLines is a LineWriter that only counts what it is given.
type countLines struct{ bytes atomic.Int64 }

func (c *countLines) WriteLines(p []byte) error { c.bytes.Add(int64(len(p))); return nil }

// BenchmarkRouter measures a small GET through the router against the
// same client hitting the app directly, in the same run: the difference
// is what the router adds. Both use real listeners on 127.0.0.1 and a
// keep-alive client.
func BenchmarkRouter(b *testing.B) {
	body := []byte("hello, world\n")
	app, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	appSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})}
	go appSrv.Serve(app)
	defer appSrv.Close()

	r := New(Options{Log: &countLines{}})
	r.Up("web.1", 1, app.Addr().(*net.TCPAddr).Port)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	for _, bc := range []struct{ name, url string }{
		{"direct", "http://" + app.Addr().String() + "/"},
		{"router", "http://" + ln.Addr().String() + "/"},
	} {
		tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1024, DisableCompression: true}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		get := func(b *testing.B) bool {
			res, err := c.Get(bc.url)
			if err != nil {
				b.Error(err)
				return false
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return false
			}
			return true
		}
		// parallel: throughput, the machine saturated
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() && get(b) {
				}
			})
		})
		// serial: one request at a time, the latency
		b.Run(bc.name+"-serial", func(b *testing.B) {
			for b.Loop() {
				if !get(b) {
					return
				}
			}
		})
	}
}
