package router

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
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
	// dial connects to the apps; tests wrap it before the first request.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a Router with an empty table: until Booting or Up, every
// request gets H14.
func New(o Options) *Router {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &Router{
		timeout: o.Timeout,
		table:   newTable(),
		log:     newLineLog(o.Log),
		dial:    (&net.Dialer{Timeout: o.Timeout}).DialContext,
	}
}

// exchange is one request on its way through the router.
type exchange struct {
	start     time.Time
	requestID string

	b     *backend   // the backend tried last; nil when none was
	tried []*backend // those that failed before it, in order

	sendAt, connAt, failAt time.Time // sending began, a connection was had, it failed

	code     code
	status   int
	upgraded bool
	page     int   // bytes of the error page sent
	n        int64 // bytes of the app's response body read
	keep     bool  // the client connection may carry another request
	gotByte  bool  // the app sent a byte of its response

	bodyStarted bool  // a goroutine sends the request body
	bodySent    bool  // all of it: read from the client and written to the app
	bodyErr     error // reading it from the client failed
}

// bodyMode is how a response's body is framed on its way to the client.
type bodyMode uint8

const (
	noBody     bodyMode = iota
	withLength          // Content-Length
	chunked             // chunked, passed on
	dechunked           // chunked, passed on as bytes to an HTTP/1.0 client (then closed)
	untilClose          // to the app's close, then the client's
)

// bodyState is the request body goroutine's, beside the exchange.
type bodyState struct {
	wg       sync.WaitGroup
	done     atomic.Bool // the goroutine ended
	stopping atomic.Bool // the response is over: what fails now is the router's doing
}

// serveRequest answers the request in c.req: it routes it to the next
// instance that is up (waiting for one that is booting if none is), or
// answers with an error page when it cannot be served. It reports whether
// the connection may carry another request.
func (c *conn) serveRequest() (keep bool) {
	r, h, x := c.r, &c.req, &c.x
	*x = exchange{start: time.Now(), keep: !h.close}
	x.requestID = requestID(h.get("X-Request-Id"))
	c.gone.Store(false)
	c.headDone, c.watchEnd = false, false
	defer c.finish()
	hasBody := h.chunked || h.length > 0

	var upType []byte
	if h.upgrade {
		if upType = h.get("Upgrade"); len(upType) == 0 {
			upType = nil
		} else if !printable(upType) {
			x.code, x.status = badRequest, 400 // a protocol that cannot be named
			c.answerPlain(400, false)
			return x.keep && !hasBody
		}
	}

	list, i := r.table.pick()
	if list == nil {
		ctx, cancel := context.WithCancel(c.s.base)
		c.mu.Lock()
		c.cancel = cancel
		c.startWatchLocked()
		c.mu.Unlock()
		var cd code
		var rows []row
		list, i, cd, rows = r.table.await(ctx, x.start.Add(r.timeout))
		c.mu.Lock()
		c.cancel = nil
		c.mu.Unlock()
		cancel()
		if c.stopWatch(false) {
			cd = h27
		}
		if cd != 0 {
			x.code = cd
			if cd == h27 {
				return false
			}
			keep := x.keep && !hasBody
			x.page = c.writePage(&failure{code: cd, rows: rows, timeout: r.timeout}, keep)
			return keep
		}
	}
	x.b = list[i]
	x.sendAt = time.Now()
	replayable := !hasBody && c.req.isReplayable()
	var ac *appConn
	var err error
	for {
		ac, err = c.connect()
		if err != nil {
			x.failAt = time.Now()
			c.stopWatch(true)
			if c.s.base.Err() != nil {
				x.code = h27
				return false
			}
			x.code = h13
			if isDial(err) {
				x.code = h21
			}
			keep := x.keep && !hasBody
			x.page = c.writePage(&failure{code: x.code, dyno: x.b.name, detail: r.table.detail(x.b.name), timeout: r.timeout}, keep)
			return keep
		}
		x.connAt = time.Now()
		c.setApp(ac)
		c.out = c.appendRequest(c.out[:0], upType)
		err = c.send(ac, hasBody)
		if err == nil || hasBody || x.gotByte || c.gone.Load() || isTimeout(err) || c.s.base.Err() != nil {
			break
		}
		// Not a byte of an answer came back to a request without a body.
		if replayable && r.table.replaced(x.b) {
			// Its instance was replaced on its way (a preboot switch)
			// and closed the connection, as a process does that stops
			// listening when it is stopped: to the replacement.
			ac.nc.Close()
			x.tried = append(x.tried, x.b)
			if b := r.table.another(x.tried); b != nil {
				x.b = b
				continue
			}
			ac = nil
			break
		}
		if ac.reused {
			// An idle connection the app had closed: once more on a new one.
			ac.nc.Close()
			if ac, err = r.dialConn(c.s.base, x.b); err == nil {
				c.setApp(ac)
				err = c.send(ac, false)
			} else {
				ac = nil
			}
		}
		break
	}
	c.mu.Lock()
	c.headDone = true
	c.mu.Unlock()
	if err != nil {
		return c.failed(ac, err, c.stopWatch(true), hasBody)
	}
	ac.nc.SetReadDeadline(time.Time{})
	if c.res.status == 101 {
		return c.upgrade(ac, upType)
	}
	return c.respond(ac, hasBody, upType != nil)
}

// connect gets a connection to the chosen backend or, when it refuses
// (nothing was sent), to another that is up now, each at most once: the
// one its instance is up on now first (a preboot switch took place since
// it was picked, and the old process stopped listening), else the next in
// the rotation.
func (c *conn) connect() (*appConn, error) {
	x := &c.x
	for {
		ac, err := c.r.getConn(c.s.base, x.b)
		if err == nil || !isDial(err) || c.s.base.Err() != nil {
			return ac, err
		}
		x.tried = append(x.tried, x.b)
		b := c.r.table.another(x.tried)
		if b == nil {
			return nil, err
		}
		x.b = b
	}
}

// send sends the request to the app (its body from a goroutine of its
// own, while the response may already come) and reads the response head,
// passing on interim (1xx) responses.
func (c *conn) send(ac *appConn, hasBody bool) error {
	x := &c.x
	if hasBody {
		ac.bw.Write(c.out) // the body's goroutine flushes it
		x.bodyStarted = true
		c.body.done.Store(false)
		c.body.wg.Add(1)
		go c.sendBody(ac)
	} else {
		ac.bw.Write(c.out)
		if err := ac.bw.Flush(); err != nil {
			return err
		}
		ac.nc.SetReadDeadline(time.Now().Add(c.r.timeout))
		c.armWatch()
	}
	for n := 0; ; n++ {
		if _, err := ac.br.Peek(1); err != nil {
			return err
		}
		x.gotByte = true
		if err := c.res.readResponse(ac.br); err != nil {
			return err
		}
		if st := c.res.status; st >= 200 || st == 101 {
			return nil
		}
		if n >= 10 {
			return errMalformed // too many interim responses
		}
		if c.req.minor >= 1 {
			c.writeHead(&c.res, noBody, true, nil)
			c.bw.WriteString("\r\n")
			c.bw.Flush() // a client gone is found out later
		}
	}
}

// sendBody copies the request body to the app. Once it is all sent, the
// response header timeout starts (unless the head came already), and the
// client is watched until the response is over.
func (c *conn) sendBody(ac *appConn) {
	defer c.body.wg.Done()
	defer c.body.done.Store(true)
	x := &c.x
	cp := copier{dst: ac.bw, src: c.br}
	var ok bool
	if c.req.chunked {
		ok = cp.chunked(true)
	} else {
		ok = cp.copyN(c.req.length)
	}
	if ok {
		if err := ac.bw.Flush(); err != nil {
			cp.dstErr, ok = err, false
		}
	}
	if !ok {
		if cp.srcErr != nil && !c.body.stopping.Load() {
			x.bodyErr = cp.srcErr
			ac.nc.Close() // the app waits for a body that will not come
		}
		return
	}
	x.bodySent = true
	c.mu.Lock()
	if !c.headDone {
		ac.nc.SetReadDeadline(time.Now().Add(c.r.timeout))
	}
	c.startWatchLocked()
	c.mu.Unlock()
}

// endBody waits for the request body's goroutine, interrupting it when
// the response is over before the body.
func (c *conn) endBody(ac *appConn) {
	x := &c.x
	if !x.bodyStarted {
		return
	}
	x.bodyStarted = false
	if c.body.done.Load() {
		c.body.wg.Wait()
		return
	}
	c.body.stopping.Store(true)
	c.nc.SetReadDeadline(aLongTimeAgo)
	ac.nc.SetWriteDeadline(aLongTimeAgo)
	c.body.wg.Wait()
	c.nc.SetReadDeadline(time.Time{})
	ac.nc.SetWriteDeadline(time.Time{})
	c.body.stopping.Store(false)
}

// failed answers for a request the app did not answer.
func (c *conn) failed(ac *appConn, err error, gone, hasBody bool) bool {
	x := &c.x
	x.failAt = time.Now()
	if ac != nil {
		ac.nc.Close()
		c.endBody(ac)
	}
	c.setApp(nil)
	switch {
	case gone || c.s.base.Err() != nil:
		x.code = h27
		return false
	case x.bodyErr != nil:
		if errors.Is(x.bodyErr, errBadChunk) {
			x.code, x.status = badRequest, 400
			c.answerPlain(400, true)
		} else {
			x.code = h27
		}
		return false
	case isTimeout(err):
		x.code = h12
	case isDial(err):
		x.code = h21 // the app went between two connections
	default:
		x.code = h13
	}
	keep := x.keep && (!hasBody || x.bodySent)
	x.page = c.writePage(&failure{code: x.code, dyno: x.b.name, detail: c.r.table.detail(x.b.name), timeout: c.r.timeout}, keep)
	return keep
}

// respond passes the app's response on to the client.
func (c *conn) respond(ac *appConn, hasBody, wasUpgrade bool) bool {
	x, res := &c.x, &c.res
	x.status = res.status
	mode := noBody
	switch {
	case c.req.isMethod("HEAD") || res.status < 200 || res.status == 204 || res.status == 304:
	case res.chunked && c.req.minor >= 1:
		mode = chunked
	case res.chunked:
		mode = dechunked
	case res.length >= 0:
		mode = withLength
	default:
		mode = untilClose
	}
	// A request body not all read by the end closes the connection after
	// all, which a client must expect of any keep-alive connection.
	keep := x.keep && mode != dechunked && mode != untilClose
	c.writeHead(res, mode, keep, nil)
	c.bw.WriteString("\r\n")

	cp := copier{dst: c.bw, src: ac.br}
	ok := true
	switch mode {
	case withLength:
		ok = cp.copyN(res.length)
	case chunked:
		ok = cp.chunked(true)
	case dechunked:
		ok = cp.chunked(false)
	case untilClose:
		ok = cp.copyN(-1)
	}
	x.n = cp.n
	gone := c.stopWatch(true)
	if !ok {
		ac.nc.Close()
		c.endBody(ac)
		c.setApp(nil)
		if cp.srcErr != nil && !gone && c.s.base.Err() == nil {
			x.code = h18
		} else {
			x.code = h27
		}
		c.abort()
		return false
	}
	flushed := c.bw.Flush() == nil
	c.endBody(ac)
	c.setApp(nil)
	if !res.close && mode != untilClose && (!hasBody || x.bodySent) && !wasUpgrade {
		putConn(ac)
	} else {
		ac.nc.Close()
	}
	return keep && flushed && (!hasBody || x.bodySent)
}

// writeHead writes a response head from the app to the client, without
// its final empty line: the status line, the fields but for the
// hop-by-hop ones, the framing of mode, and, for an upgrade, the upgrade.
func (c *conn) writeHead(res *head, mode bodyMode, keep bool, upgrade []byte) {
	b := c.bw
	b.WriteString("HTTP/1.1 ")
	b.Write(res.bytes(res.start[1]))
	b.WriteByte(' ')
	b.Write(res.bytes(res.start[2]))
	b.WriteString("\r\n")
	hasDate := false
	for _, f := range res.fields {
		name := res.bytes(f.name)
		if res.hopByHop(name) && !(mode == chunked && equalFold(name, "Trailer")) {
			continue
		}
		if mode >= chunked && equalFold(name, "Content-Length") {
			continue
		}
		hasDate = hasDate || equalFold(name, "Date")
		b.Write(name)
		b.WriteString(": ")
		b.Write(res.bytes(f.value))
		b.WriteString("\r\n")
	}
	if res.status < 200 {
		if upgrade != nil {
			b.WriteString("Connection: Upgrade\r\nUpgrade: ")
			b.Write(upgrade)
			b.WriteString("\r\n")
		}
		return
	}
	if !hasDate {
		var d [40]byte
		b.Write(appendDate(append(d[:0], "Date: "...)))
		b.WriteString("\r\n")
	}
	if mode == chunked {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if !keep {
		b.WriteString("Connection: close\r\n")
	} else if c.req.minor == 0 {
		b.WriteString("Connection: keep-alive\r\n")
	}
}

// upgrade passes on the app's 101 to an upgrade request, then the bytes
// both ways until either side closes.
func (c *conn) upgrade(ac *appConn, upType []byte) bool {
	x := &c.x
	up := c.res.get("Upgrade")
	if upType == nil || !bytes.EqualFold(up, upType) {
		return c.failed(ac, errMalformed, c.stopWatch(true), x.bodyStarted) // it switched to what was not asked for
	}
	c.stopWatch(true)
	c.endBody(ac)
	x.status, x.upgraded = 101, true
	c.mu.Lock()
	c.state = upgraded
	c.mu.Unlock()
	c.writeHead(&c.res, noBody, false, up)
	c.bw.WriteString("\r\n")
	if c.bw.Flush() != nil {
		ac.nc.Close()
		c.setApp(nil)
		return false
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := c.writeBuffered(ac.nc)
		if err == nil {
			io.Copy(ac.nc, c.nc)
		}
		ac.nc.Close()
		c.nc.Close()
	}()
	io.Copy(c.nc, ac.br)
	c.nc.Close()
	ac.nc.Close()
	<-done
	c.setApp(nil)
	return false
}

// writeBuffered writes to w what the client sent that was read already.
func (c *conn) writeBuffered(w io.Writer) error {
	if n := c.br.Buffered(); n > 0 {
		p, _ := c.br.Peek(n)
		if _, err := w.Write(p); err != nil {
			return err
		}
		c.br.Discard(n)
	}
	if c.cr.stashed {
		c.cr.stashed = false
		if _, err := w.Write([]byte{c.cr.stash}); err != nil {
			return err
		}
	}
	return nil
}

// writePage answers the client with f's error page: 503, HTML when the
// client accepts it, else plain text. It returns the body's length.
func (c *conn) writePage(f *failure, keep bool) int {
	ctype, body := f.page(bytes.Contains(c.req.get("Accept"), []byte("text/html")))
	b := c.bw
	b.WriteString("HTTP/1.1 503 Service Unavailable\r\nCache-Control: no-store\r\nContent-Length: ")
	var a [64]byte
	b.Write(strconv.AppendInt(a[:0], int64(len(body)), 10))
	b.WriteString("\r\nContent-Type: ")
	b.WriteString(ctype)
	b.WriteString("\r\nDate: ")
	b.Write(appendDate(a[:0]))
	b.WriteString("\r\n")
	if !keep {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	if c.req.isMethod("HEAD") {
		b.Flush()
		return 0
	}
	b.Write(body)
	b.Flush() // the client may have gone: the log says what was sent
	return len(body)
}

// appendRequest appends the request head for the app: the client's,
// without its hop-by-hop fields, with the platform's.
func (c *conn) appendRequest(b []byte, upType []byte) []byte {
	h, x := &c.req, &c.x
	b = append(b, h.bytes(h.start[0])...)
	b = append(b, ' ')
	b = append(b, originForm(h.bytes(h.start[1]))...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	if host := c.host(); len(host) > 0 {
		b = append(b, host...)
	} else {
		b = append(b, x.b.host...)
	}
	b = append(b, "\r\n"...)
	trailers := false
	for _, f := range h.fields {
		name := h.bytes(f.name)
		if h.hopByHop(name) {
			if len(name) == 2 && hasToken(h.bytes(f.value), "trailers") {
				trailers = true
			}
			continue
		}
		if replaced(name) {
			continue
		}
		b = append(b, name...)
		b = append(b, ": "...)
		b = append(b, h.bytes(f.value)...)
		b = append(b, "\r\n"...)
	}
	if h.chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if trailers {
		b = append(b, "Te: trailers\r\n"...)
	}
	if upType != nil {
		b = append(b, "Connection: Upgrade\r\nUpgrade: "...)
		b = append(b, upType...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "X-Request-Id: "...)
	b = append(b, x.requestID...)
	b = append(b, "\r\nX-Forwarded-For: "...)
	for _, f := range h.fields {
		if equalFold(h.bytes(f.name), "X-Forwarded-For") {
			b = append(b, h.bytes(f.value)...)
			b = append(b, ", "...)
		}
	}
	b = append(b, c.ip...)
	b = append(b, "\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: "...)
	b = append(b, c.port...)
	b = append(b, "\r\nX-Request-Start: "...)
	b = strconv.AppendInt(b, x.start.UnixMilli(), 10)
	b = append(b, "\r\nVia: 1.1 ganger\r\n\r\n"...)
	return b
}

// replaced reports whether a request field is one the router sets itself
// (or, like Forwarded, drops).
func replaced(name []byte) bool {
	switch len(name) {
	case 4:
		return equalFold(name, "Host")
	case 9:
		return equalFold(name, "Forwarded")
	case 12:
		return equalFold(name, "X-Request-Id")
	case 15:
		return equalFold(name, "X-Forwarded-For") || equalFold(name, "X-Request-Start")
	case 16:
		return equalFold(name, "X-Forwarded-Host") || equalFold(name, "X-Forwarded-Port")
	case 17:
		return equalFold(name, "X-Forwarded-Proto")
	}
	return false
}

// host is the request's host: an absolute-form target's, else its Host.
func (c *conn) host() []byte {
	if h := absoluteHost(c.req.bytes(c.req.start[1])); h != nil {
		return h
	}
	return c.req.get("Host")
}

func (h *head) isMethod(m string) bool { return string(h.bytes(h.start[0])) == m }

// isReplayable reports whether the request has a method without side
// effects, which may be sent again after it may have reached the app.
func (h *head) isReplayable() bool {
	switch string(h.bytes(h.start[0])) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// isDial reports whether err is a failure to connect: nothing was sent.
func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// finish logs the request once it is over, from the exchange's record.
func (c *conn) finish() {
	x, h := &c.x, &c.req
	end := time.Now()
	e := entry{
		code:      x.code,
		method:    string(h.bytes(h.start[0])),
		path:      string(h.bytes(h.start[1])),
		host:      string(c.host()),
		requestID: x.requestID,
		fwd:       c.ip,
		connect:   -1,
		service:   -1,
		status:    x.status,
		bytes:     x.n,
	}
	switch x.code {
	case 0, h18, badRequest:
	case h27:
		e.status = 499
	default:
		e.status, e.bytes = 503, int64(x.page)
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
	c.r.log.add(&e)
}

// requestID returns id when it is a valid request id (20 to 200 of
// [A-Za-z0-9+/=-]), else a new random UUID v4.
func requestID(id []byte) string {
	if validRequestID(id) {
		return string(id)
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

func validRequestID(id []byte) bool {
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
