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
//	func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request)
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
// # Routing
//
// Requests go round robin to the instances that are up, over HTTP/1.1 with
// a keep-alive pool per instance (never through HTTP_PROXY). Once an
// instance is replaced or down, its idle connections are closed, and those
// of the requests still on it as they end: an old process stopping after a
// preboot waits for none of them. Upgrades (WebSocket) and
// streamed responses (server-sent events, chunked) pass through unbuffered;
// bodies are never buffered whole. When an instance refuses the connection
// (nothing was sent), another that is up now is tried, each at most once,
// as long as the request can be replayed: it has no body, or its body has
// not been read yet (or it has GetBody). So is a GET, HEAD, OPTIONS or
// TRACE without a body whose instance was replaced (Up, a preboot switch)
// while it was on its way and closed the connection unanswered, as an old
// process does that stops listening when it is stopped. The replacement
// of the instance that failed is tried first. When no instance is up but one is
// booting, a request waits for one to come up, up to Timeout from its
// arrival.
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
// break a line. A connection that net/http itself answered without calling
// the router (bytes that are not HTTP: 400; headers too large: 431) is
// logged as
//
//	at=error desc="Bad request" method= path="" host= request_id= fwd="127.0.0.1" dyno= connect= service= status=400 bytes=… protocol=http
//
// (bytes counting the whole answer); one that closed before sending a
// whole request is not logged. When Log falls behind by more than 1 MiB,
// lines are dropped and counted in a line "at=error code=L10 desc="Router
// log buffer overflow" dropped=N".
//
// While Serve runs, lines go to Log in batches from one goroutine; outside
// Serve (ServeHTTP called by another server, or an upgraded connection
// ending just after Serve returned), each line is written as its request
// ends. Either way WriteLines is never called concurrently, and it must
// not keep p.
package router
