// Package router is the platform's HTTP router in front of an app's web
// processes: clients talk to it, it forwards each request to one of the
// processes that are up, and it answers for them when none can.
//
// It owns the backend table (which instance is booting, up on which port,
// or down and why), round robin over the instances that are up, the
// request headers the platform adds, the error pages and codes (H10 App
// crashed, H12 Request timeout, H13 Connection closed without response,
// H14 No web processes running, H18 Server Request Interrupted, H20 App
// boot timeout, H21 Backend connection refused, H27 Client Request
// Interrupted) and one log line per request in the platform's key=value
// form. It knows nothing of processes: its owner tells it what changed.
//
// # API
//
//	type LineWriter interface{ WriteLines(p []byte) error }
//
//	type Options struct {
//		Timeout time.Duration // no response headers from the app within it: 503, H12; 0 means 30s
//		Log     LineWriter    // one line per request, in batches; never called concurrently
//	}
//	func New(o Options) *Router
//	func (r *Router) Serve(ctx context.Context, ln net.Listener) error
//
//	func (r *Router) Booting(name string, pid int)
//	func (r *Router) Up(name string, pid, port int)
//	func (r *Router) Down(name string, pid int, d Down)
//	func (r *Router) Forget(name string)
//	type Down struct{ Crashed bool; Detail string }
//
// Names are instance names ("web.1"); the table methods are safe for
// concurrent use and take effect for the next request. Up replaces what a
// name had (the preboot switch): requests already sent to the old process
// finish there. Booting is ignored for a name that is up (a preboot
// successor: the current process keeps serving until its Up), and Down is
// ignored unless pid is the name's current process (an old process, or a
// successor that failed before its Up).
//
// # HTTP
//
// The router speaks HTTP/1.1 (and 1.0) by hand on net and bufio, not with
// net/http, which with crypto/tls would cost every ganger process, routing
// or not, some 2.6 MiB of RSS (cmd/ganger's TestNoNetHTTP keeps it out).
// http1.go reads message heads strictly: a request line with a token
// method, a target in origin form (or absolute, or *) and HTTP/1.x; header
// fields with token names and no control bytes, no obs-fold; at most 1 MiB
// of head (else 431). A request with both Content-Length and
// Transfer-Encoding, a bad or conflicting length, a coding other than
// chunked, or an HTTP/1.1 request without exactly one Host gets 400; HTTP/2
// and up get 505. Keep-alive follows the version and Connection (close,
// keep-alive); an HTTP/1.0 message with Transfer-Encoding (ignored) ends
// its connection. Pipelined requests are answered in order. The hop-by-hop
// fields (Connection and those it names but Content-Length, Keep-Alive, Proxy-*, TE but
// "trailers", Trailer, Transfer-Encoding, Upgrade) are dropped both ways and
// the framing is the router's own: Content-Length bodies are copied
// exactly, chunked ones passed on chunk by chunk with their trailer (as
// bytes to an HTTP/1.0 client, then closed), a response with neither ends
// when the app closes, and then so does the client connection. HEAD, 1xx,
// 204 and 304 have no body. Interim responses (100 Continue, 103) are
// passed on. What the app sends is written to the client as soon as the
// router has no more of it buffered.
//
// # Routing
//
// Requests go round robin to the instances that are up, over HTTP/1.1 with
// a keep-alive pool per instance (never through HTTP_PROXY; idle
// connections are closed after 90 s). Once an instance is replaced (Up) or
// down, its idle connections are closed, and those of the requests still
// on it as they end: an old process stopping after a preboot waits for
// none of them (a Go app's Shutdown waits for idle connections too). The
// request body goes to the app from a goroutine of its own, so that the
// response may come before it ends. Upgrades (WebSocket) and streamed
// responses (server-sent events, chunked) pass through unbuffered; bodies
// are never buffered whole. When an instance refuses the connection
// (nothing was sent), another that is up now (not when the request was
// routed) is tried, each at most once. So is a GET, HEAD, OPTIONS or TRACE
// without a body whose instance was replaced (a preboot switch) while it
// was on its way and closed the connection before a byte of the response,
// as an old process does that stops listening when it is stopped. Either
// way the instance's replacement is tried first, then the next in the
// rotation. A request without a body sent on an idle connection that fails
// before a byte of the response comes back is sent once more on a new one;
// an idle connection is first checked for having been closed by the app,
// or for bytes on it that no request asked for, before a request goes on
// it (and one the app sent more than its response on is not kept). When
// no instance is up but one is booting, a request waits for one to come
// up, up to Timeout from its arrival. While the router waits for the app, and while a response
// streams, it watches the client connection: a client that closes it ends
// the request (H27) and the app connection.
//
// The request gets X-Request-Id (the client's when it is 20-200 characters
// of [A-Za-z0-9+/=-], else a new UUID v4), X-Forwarded-For (the client's
// address appended to any list it sent), X-Forwarded-Proto (http),
// X-Forwarded-Port (the port the client connected to), X-Request-Start
// (milliseconds since the epoch when the router received it) and Via
// (1.1 ganger). The Host header is passed on as the client sent it.
//
// # Errors
//
// The client gets 503 with a short page (HTML when it accepts text/html,
// else text/plain) naming the code, the instance and its last exit, with a
// hint such as "ganger restart web". A client that went away is logged
// (H27, status=499) and sent nothing. When the app breaks off a response
// whose headers were sent (H18), or the client goes away mid-response
// (H27), the client connection is aborted: nothing else can be done.
//
// # Log lines
//
//	at=info method=GET path="/x" host=localhost:5000 request_id=… fwd="127.0.0.1" dyno=web.2 connect=0ms service=12ms status=200 bytes=123 protocol=http
//	at=error code=H12 desc="Request timeout" method=GET path="/x" … dyno=web.1 connect=0ms service=30000ms status=503 bytes=… protocol=http
//
// dyno, connect and service are empty when no process was tried; service is
// empty when no connection was made. connect is the time to get a
// connection, service the time from then to the end of the response (of
// the whole session for an upgrade, logged when it ends). bytes counts the
// response body. path and desc are quoted, with quotes, backslashes and any
// byte outside printable ASCII escaped, so what a client sends can never
// break a line. A request the router could not read (bytes that are not
// HTTP, or bad framing: 400; headers too large: 431; HTTP/2: 505), answered
// as net/http would and closed, is logged as
//
//	at=error desc="Bad request" method= path="" host= request_id= fwd="127.0.0.1" dyno= connect= service= status=400 bytes=… protocol=http
//
// (bytes counting the whole answer); one that closed before sending a
// whole request is not logged. When Log falls behind by more than 1 MiB,
// lines are dropped and counted in a line "at=error code=L10 desc="Router
// log buffer overflow" dropped=N".
//
// While Serve runs, lines go to Log in batches from one goroutine; Serve
// returns once every connection's line is written. WriteLines is never
// called concurrently, and it must not keep p.
package router
