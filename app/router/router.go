package router

import (
	"context"
	"errors"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Router.
type Options struct {
	Timeout time.Duration // no response headers from the app within it: 503, H12; 0 means 30s
	Log     LineWriter    // one line per request, in batches; never called concurrently; must not keep p
}

// Router forwards requests to the instances that are up. Make one with New.
type Router struct {
	timeout time.Duration
	table   *table
	log     *lineLog
	proxy   *httputil.ReverseProxy
	// dial connects to the apps; tests wrap it before the first request.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a Router with an empty table: until Booting or Up, every
// request gets H14.
func New(o Options) *Router {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	r := &Router{timeout: o.Timeout, log: newLineLog(o.Log)}
	r.dial = (&net.Dialer{Timeout: o.Timeout}).DialContext
	r.table = newTable(r.newTransport)
	discard := log.New(io.Discard, "", 0)
	r.proxy = &httputil.ReverseProxy{
		Rewrite:        r.rewrite,
		Transport:      roundTripper{r},
		BufferPool:     &bufferPool{},
		ModifyResponse: r.modifyResponse,
		ErrorHandler:   r.proxyError,
		ErrorLog:       discard, // every error is in the request's log line
	}
	return r
}

// newTransport is the connection pool of one backend: HTTP/1.1 with
// keep-alive, never through HTTP_PROXY (the apps are on 127.0.0.1). Each
// backend has its own, so that its idle connections can be closed when it
// is replaced or down (see retire).
func (r *Router) newTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return r.dial(ctx, network, addr)
		},
		MaxIdleConns:          0, // no limit but the one per host
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: r.timeout,
		DisableCompression:    true,
	}
}

// bufferPool lends ReverseProxy its 32 KiB copy buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// exchangeKey is the context key of a request's exchange.
type exchangeKey struct{}

// exchange is one request on its way through the router.
type exchange struct {
	start     time.Time
	requestID string
	ip, port  string // the client's address, and the port it connected to

	b *backend // the backend tried last; nil when none was

	sendAt, connAt, failAt time.Time // RoundTrip began, a connection was had, the proxy failed

	code     code
	status   int
	upgraded bool
	page     int // bytes of the error page sent

	trace httptrace.ClientTrace
	reqIn reqBody
	resIn resBody
}

func (x *exchange) gotConn(httptrace.GotConnInfo) { x.connAt = time.Now() }

// reqBody is the request body on its way to the app: it records whether
// it was read, so a request refused before anything was sent can go to
// the next instance.
type reqBody struct {
	rc   io.ReadCloser
	read atomic.Bool
}

func (b *reqBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.rc.Read(p)
}

// Close does nothing: http.Transport closes the body when a dial fails,
// and it must stay readable for the next instance. ReverseProxy closes
// what it wrapped when the handler ends.
func (b *reqBody) Close() error { return nil }

// resBody is the app's response body on its way to the client: it counts
// the bytes and records how reading ended.
type resBody struct {
	rc  io.ReadCloser
	n   int64
	eof bool
	err error // other than io.EOF
}

func (b *resBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.eof = true
	} else if err != nil {
		b.err = err
	}
	return n, err
}

func (b *resBody) Close() error { return b.rc.Close() }

// ServeHTTP routes req to the next instance that is up, waiting for one
// that is booting if none is, and answers with an error page when it
// cannot be served.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	x := &exchange{start: time.Now()}
	x.requestID = requestID(req.Header.Get("X-Request-Id"))
	if c, ok := req.Context().Value(connKey{}).(*conn); ok {
		c.handled.Store(true) // not one net/http answers itself
		x.ip, x.port = c.ip, c.port
	} else {
		x.ip, x.port = client(req)
	}
	defer r.finish(x, req) // also when ReverseProxy aborts the response with http.ErrAbortHandler

	list, i := r.table.pick()
	if list == nil {
		var c code
		var rows []row
		list, i, c, rows = r.table.await(req.Context(), x.start.Add(r.timeout))
		if c != 0 {
			x.code = c
			if c != h27 {
				x.page = writePage(w, req, &failure{code: c, rows: rows, timeout: r.timeout})
			}
			return
		}
	}
	x.b = list[i]
	x.trace.GotConn = x.gotConn
	ctx := httptrace.WithClientTrace(context.WithValue(req.Context(), exchangeKey{}, x), &x.trace)
	r.proxy.ServeHTTP(w, req.WithContext(ctx))
}

// client returns the client's address and the port it connected to, for
// a request that did not come through Serve.
func client(req *http.Request) (ip, port string) {
	ip = req.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	if a, ok := req.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			port = p
		}
	}
	return ip, port
}

func exchangeOf(req *http.Request) *exchange {
	return req.Context().Value(exchangeKey{}).(*exchange)
}

// rewrite makes the request to the app: to the chosen backend, with the
// platform's headers. ReverseProxy has removed the hop-by-hop headers and
// the client's X-Forwarded-For, -Host and -Proto and Forwarded.
func (r *Router) rewrite(pr *httputil.ProxyRequest) {
	x := exchangeOf(pr.In)
	out := pr.Out
	out.URL.Scheme = "http"
	out.URL.Host = x.b.host // out.Host stays what the client sent

	fwd := x.ip
	if prior := pr.In.Header["X-Forwarded-For"]; len(prior) > 0 {
		fwd = strings.Join(prior, ", ") + ", " + x.ip
	}
	var ms [20]byte
	v := []string{x.requestID, fwd, "http", x.port, string(strconv.AppendInt(ms[:0], x.start.UnixMilli(), 10)), "1.1 ganger"}
	h := out.Header
	h["X-Request-Id"] = v[0:1:1]
	h["X-Forwarded-For"] = v[1:2:2]
	h["X-Forwarded-Proto"] = v[2:3:3]
	h["X-Forwarded-Port"] = v[3:4:4]
	h["X-Request-Start"] = v[4:5:5]
	if via := h["Via"]; len(via) > 0 {
		h["Via"] = append(via[:len(via):len(via)], v[5])
	} else {
		h["Via"] = v[5:6:6]
	}
	if out.Body != nil && out.Body != http.NoBody {
		x.reqIn.rc = out.Body
		out.Body = &x.reqIn
	}
}

// roundTripper sends a request to its backend and, when that fails
// before any answer in a way that says nothing reached the app, to
// another that is up now: when the connection was refused (nothing was
// sent), or when the instance was replaced (a preboot switch) while the
// request was on its way and it closed the connection unanswered, as a
// process does that stops listening as it is stopped. Each backend is
// tried at most once, and the replacement of the one that failed first.
type roundTripper struct{ r *Router }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchangeOf(req)
	x.sendAt = time.Now()
	var tried []string // hosts
	for {
		res, err := x.b.tr.RoundTrip(req)
		if err == nil || req.Context().Err() != nil {
			return res, err
		}
		next := *req
		switch {
		case isDial(err):
			switch {
			case req.Body == nil || req.Body == http.NoBody || !x.reqIn.read.Load():
			case req.GetBody != nil:
				if next.Body, err = req.GetBody(); err != nil {
					return nil, err
				}
			default:
				return nil, err // part of the body is gone: it cannot be sent again
			}
		case replayable(req) && !isTimeout(err) && rt.r.table.replaced(x.b):
		default:
			return nil, err
		}
		tried = append(tried, x.b.host)
		b := rt.r.table.another(x.b.name, tried)
		if b == nil {
			return nil, err
		}
		x.b = b
		u := *req.URL
		u.Host = b.host
		next.URL = &u
		req = &next
	}
}

// replayable reports whether req may be sent again after it may have
// reached the app: a method without side effects, and no body.
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return req.Body == nil || req.Body == http.NoBody
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isDial reports whether err is a failure to connect: nothing was sent.
func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// modifyResponse records the app's answer and counts its body.
func (r *Router) modifyResponse(res *http.Response) error {
	x := exchangeOf(res.Request)
	x.status = res.StatusCode
	if res.StatusCode == http.StatusSwitchingProtocols {
		x.upgraded = true // ReverseProxy needs the body as it is: the connection
		return nil
	}
	x.resIn.rc = res.Body
	res.Body = &x.resIn
	return nil
}

// proxyError answers for a request the app did not answer.
func (r *Router) proxyError(w http.ResponseWriter, req *http.Request, err error) {
	x := exchangeOf(req)
	x.failAt = time.Now()
	switch {
	case req.Context().Err() != nil:
		x.code = h27
	case x.sendAt.IsZero():
		x.code = badRequest // ReverseProxy refused it (an upgrade to a protocol that is not printable)
	case isDial(err):
		x.code = h21
	default:
		if isTimeout(err) {
			x.code = h12
		} else {
			x.code = h13
		}
	}
	if x.code == h27 || x.upgraded {
		return // the client is gone, or the connection is no longer HTTP
	}
	if x.code == badRequest {
		x.status = http.StatusBadRequest
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	x.page = writePage(w, req, &failure{code: x.code, dyno: x.b.name, detail: r.table.detail(x.b.name), timeout: r.timeout})
}

// finish logs the request once it is over, from the exchange's record.
func (r *Router) finish(x *exchange, req *http.Request) {
	end := time.Now()
	e := entry{
		code:      x.code,
		method:    req.Method,
		path:      req.RequestURI,
		host:      req.Host,
		requestID: x.requestID,
		fwd:       x.ip,
		connect:   -1,
		service:   -1,
		status:    x.status,
		bytes:     x.resIn.n,
	}
	if e.path == "" {
		e.path = req.URL.RequestURI()
	}
	switch {
	case x.code == h27:
		e.status = 499
	case x.code == badRequest:
	case x.code != 0:
		e.status, e.bytes = http.StatusServiceUnavailable, int64(x.page)
	case x.status != 0 && !x.upgraded && !x.resIn.eof:
		// The body did not reach its end: ReverseProxy aborted the
		// response, because the app broke it off or the client left.
		if x.resIn.err != nil && req.Context().Err() == nil {
			e.code = h18
		} else {
			e.code, e.status = h27, 499
		}
	}
	if x.b != nil && x.b.retired.Load() {
		// Its connection is idle now, or closed: an old process that
		// stops waits for none of them.
		x.b.tr.CloseIdleConnections()
	}
	if x.b != nil && !x.sendAt.IsZero() {
		e.dyno = x.b.name
		switch {
		case !x.connAt.IsZero():
			e.connect, e.service = x.connAt.Sub(x.sendAt), end.Sub(x.connAt)
		case !x.failAt.IsZero():
			e.connect = x.failAt.Sub(x.sendAt)
		}
	}
	r.log.add(&e)
}

// requestID returns id when it is a valid request id (20 to 200 of
// [A-Za-z0-9+/=-]), else a new random UUID v4.
func requestID(id string) string {
	if validRequestID(id) {
		return id
	}
	// math/rand/v2's generator is ChaCha8 seeded by the OS, per thread: ids
	// need to be unique, not secret, and crypto/rand would cost a syscall.
	hi, lo := rand.Uint64(), rand.Uint64()
	hi = hi&^(0xf<<12) | 4<<12   // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // variant 10
	const hex = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i := range 16 {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		var c byte
		if i < 8 {
			c = byte(hi >> (56 - 8*i))
		} else {
			c = byte(lo >> (56 - 8*(i-8)))
		}
		b[j], b[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return string(b[:])
}

func validRequestID(id string) bool {
	if len(id) < 20 || len(id) > 200 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '+', c == '/', c == '=', c == '-':
		default:
			return false
		}
	}
	return true
}
