package router

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the HTTP/1.1 the router speaks, by hand (RFC 9112): reading
// a message head into a reusable buffer, the header fields the router
// looks at, and copying bodies (Content-Length, chunked, or until the
// sender closes) between two buffered connections, flushing whenever the
// source has nothing more buffered so that streams are never held back.

// maxHeaderBytes bounds a request's or response's head: start line and
// header fields, line ends included. A request over it gets 431.
const maxHeaderBytes = 1 << 20

// Errors of a request the router cannot parse; the client is answered
// with its status (and the error is not logged further).
var (
	errTooLarge    = errors.New("router: header too large")
	errBadVersion  = errors.New("router: unsupported HTTP version")
	errMalformed   = errors.New("router: malformed HTTP message")
	errBadLength   = errors.New("router: bad Content-Length")
	errBadEncoding = errors.New("router: bad Transfer-Encoding")
	errBadChunk    = errors.New("router: malformed chunked body")
)

// span is a part of a head's buffer.
type span struct{ s, e int32 }

// field is one header field line: its name and value (trimmed).
type field struct{ name, value span }

// head is one message head as read: its bytes and where the parts are.
// Its buffer and slices are reused from message to message.
type head struct {
	buf    []byte
	fields []field
	start  [3]span // request: method, target, version; response: version, status, reason

	minor  int   // HTTP/1.minor
	status int   // response only
	length int64 // Content-Length; -1 when none
	chunked,
	close, // the sender ends the connection after this message
	keepAlive, // Connection: keep-alive (HTTP/1.0)
	upgrade, // Connection: upgrade
	untilClose bool // a response whose body ends when the app closes: a transfer coding other than chunked
	tokens []span // the Connection header's tokens: fields named there are hop-by-hop
}

func (h *head) bytes(s span) []byte { return h.buf[s.s:s.e] }

// readLine appends the next line to h.buf and returns where it is, without
// its line end (LF or CRLF).
func (h *head) readLine(br *bufio.Reader) (span, error) {
	s := len(h.buf)
	for {
		frag, err := br.ReadSlice('\n')
		if len(h.buf)+len(frag) > maxHeaderBytes {
			return span{}, errTooLarge
		}
		h.buf = append(h.buf, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(h.buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return span{}, err
		}
	}
	e := len(h.buf) - 1
	if e > s && h.buf[e-1] == '\r' {
		e--
	}
	return span{int32(s), int32(e)}, nil
}

// readFields reads header fields up to the empty line, checking each
// (no obs-fold, a token name, no control bytes in the value).
func (h *head) readFields(br *bufio.Reader) error {
	for {
		sp, err := h.readLine(br)
		if err != nil {
			return err
		}
		if sp.s == sp.e {
			return nil
		}
		line := h.buf[sp.s:sp.e]
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return errMalformed // no name, or a line starting with space or tab (obs-fold)
		}
		for _, c := range line[:colon] {
			if !isToken(c) {
				return errMalformed
			}
		}
		vs, ve := colon+1, len(line)
		for vs < ve && (line[vs] == ' ' || line[vs] == '\t') {
			vs++
		}
		for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
			ve--
		}
		for _, c := range line[vs:ve] {
			if c < ' ' && c != '\t' || c == 0x7f {
				return errMalformed
			}
		}
		h.fields = append(h.fields, field{
			name:  span{sp.s, sp.s + int32(colon)},
			value: span{sp.s + int32(vs), sp.s + int32(ve)},
		})
	}
}

// readRequest reads a request head and checks its framing: a body is
// either Content-Length or chunked, never both (the request smuggling
// rule), and an HTTP/1.1 request names exactly one Host.
func (h *head) readRequest(br *bufio.Reader) error {
	h.reset()
	line, err := h.readLine(br)
	if err != nil {
		return err
	}
	b := h.buf[line.s:line.e]
	sp1 := bytes.IndexByte(b, ' ')
	if sp1 <= 0 {
		return errMalformed
	}
	sp2 := bytes.IndexByte(b[sp1+1:], ' ')
	if sp2 <= 0 {
		return errMalformed
	}
	sp2 += sp1 + 1
	for _, c := range b[:sp1] {
		if !isToken(c) {
			return errMalformed
		}
	}
	target := b[sp1+1 : sp2]
	for _, c := range target {
		if c < ' ' || c == 0x7f {
			return errMalformed
		}
	}
	if !(target[0] == '/' || len(target) == 1 && target[0] == '*' || absoluteHost(target) != nil) {
		return errMalformed
	}
	if h.minor, err = parseVersion(b[sp2+1:]); err != nil {
		return err
	}
	h.start = [3]span{{line.s, line.s + int32(sp1)}, {line.s + int32(sp1) + 1, line.s + int32(sp2)}, {line.s + int32(sp2) + 1, line.e}}
	if err := h.readFields(br); err != nil {
		return err
	}
	if err := h.framing(false); err != nil {
		return err
	}
	if h.chunked && !equalFold(h.get("Transfer-Encoding"), "chunked") {
		return errBadEncoding // a client may only send chunked
	}
	if hosts := h.count("Host"); hosts > 1 || hosts == 0 && h.minor >= 1 { // RFC 9112 3.2: even with an absolute-form target
		return errMalformed
	}
	if h.minor == 0 {
		// Transfer-Encoding, ignored, leaves the framing in doubt: the
		// connection ends after the message (RFC 9112 6.1).
		h.close = !h.keepAlive || h.count("Transfer-Encoding") > 0
	}
	return nil
}

// readResponse reads a response head from an app.
func (h *head) readResponse(br *bufio.Reader) error {
	h.reset()
	line, err := h.readLine(br)
	if err != nil {
		return err
	}
	b := h.buf[line.s:line.e]
	if len(b) < 12 || b[8] != ' ' || len(b) > 12 && b[12] != ' ' {
		return errMalformed
	}
	if h.minor, err = parseVersion(b[:8]); err != nil {
		return err
	}
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return errMalformed
		}
		h.status = h.status*10 + int(c-'0')
	}
	if h.status < 100 {
		return errMalformed
	}
	reason := line.s + 12
	if len(b) > 12 {
		reason++
	}
	h.start = [3]span{{line.s, line.s + 8}, {line.s + 9, line.s + 12}, {reason, line.e}}
	if err := h.readFields(br); err != nil {
		return err
	}
	if err := h.framing(true); err != nil {
		return err
	}
	if h.minor == 0 {
		// Transfer-Encoding, ignored, leaves the framing in doubt: the
		// connection ends after the message (RFC 9112 6.1).
		h.close = !h.keepAlive || h.count("Transfer-Encoding") > 0
	}
	return nil
}

func (h *head) reset() {
	h.buf, h.fields, h.tokens = h.buf[:0], h.fields[:0], h.tokens[:0]
	h.minor, h.status, h.length = 0, 0, -1
	h.chunked, h.close, h.keepAlive, h.upgrade, h.untilClose = false, false, false, false, false
}

// parseVersion reads "HTTP/1.0" or "HTTP/1.1" (another minor counts as
// 1.1); another major version is errBadVersion.
func parseVersion(v []byte) (minor int, err error) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return 0, errMalformed
	}
	if v[5] != '1' {
		return 0, errBadVersion
	}
	if v[7] == '0' {
		return 0, nil
	}
	return 1, nil
}

// framing reads Content-Length, Transfer-Encoding and Connection.
func (h *head) framing(response bool) error {
	te := 0
	for _, f := range h.fields {
		name, v := h.bytes(f.name), h.bytes(f.value)
		switch {
		case equalFold(name, "Content-Length"):
			n, ok := parseLength(v)
			if !ok || h.length >= 0 && n != h.length {
				return errBadLength
			}
			h.length = n
		case equalFold(name, "Transfer-Encoding"):
			te++
			if h.minor == 0 {
				continue // HTTP/1.0 has no transfer codings: ignored (but see close)
			}
			// chunked must be the last coding; only chunked alone is
			// accepted from a client (checked by the caller of a request).
			if last := lastToken(v); equalFold(last, "chunked") {
				h.chunked = true
			} else if response {
				h.untilClose = true
			} else {
				return errBadEncoding
			}
		case equalFold(name, "Connection"):
			for rest := v; len(rest) > 0; {
				var tok []byte
				tok, rest = nextToken(rest)
				if len(tok) == 0 {
					continue
				}
				s := int32(cap(h.buf) - cap(tok)) // tok's offset in buf
				h.tokens = append(h.tokens, span{s, s + int32(len(tok))})
				switch {
				case equalFold(tok, "close"):
					h.close = true
				case equalFold(tok, "keep-alive"):
					h.keepAlive = true
				case equalFold(tok, "upgrade"):
					h.upgrade = true
				}
			}
		}
	}
	if te > 1 {
		return errBadEncoding
	}
	if h.untilClose {
		h.chunked, h.length, h.close = false, -1, true
	}
	if h.chunked && h.length >= 0 {
		if response {
			h.length = -1 // chunked wins (RFC 9112 6.3)
		} else {
			return errBadLength // both: the request smuggling rule
		}
	}
	return nil
}

// count is how many fields are named name.
func (h *head) count(name string) int {
	n := 0
	for _, f := range h.fields {
		if equalFold(h.bytes(f.name), name) {
			n++
		}
	}
	return n
}

// get is the value of the first field named name, else nil.
func (h *head) get(name string) []byte {
	for _, f := range h.fields {
		if equalFold(h.bytes(f.name), name) {
			return h.bytes(f.value)
		}
	}
	return nil
}

// named reports whether the Connection header names the field name: it
// is hop-by-hop.
func (h *head) named(name []byte) bool {
	for _, t := range h.tokens {
		if bytes.EqualFold(h.bytes(t), name) {
			return true
		}
	}
	return false
}

// hopByHop reports whether a field is for one connection only (RFC 9110
// 7.6.1), including those the message's Connection header names (but
// Content-Length).
func (h *head) hopByHop(name []byte) bool {
	switch len(name) {
	case 2:
		return equalFold(name, "TE") || h.named(name)
	case 7:
		return equalFold(name, "Upgrade") || equalFold(name, "Trailer") || h.named(name)
	case 10:
		return equalFold(name, "Connection") || equalFold(name, "Keep-Alive") || h.named(name)
	case 14:
		// Content-Length is the message's framing, which the router
		// keeps: a Connection header naming it must not strip it, else
		// the body would be read as the next message.
		return !equalFold(name, "Content-Length") && h.named(name)
	case 16:
		return equalFold(name, "Proxy-Connection") || h.named(name)
	case 17:
		return equalFold(name, "Transfer-Encoding") || h.named(name)
	case 18:
		return equalFold(name, "Proxy-Authenticate") || h.named(name)
	case 19:
		return equalFold(name, "Proxy-Authorization") || h.named(name)
	}
	return len(h.tokens) > 0 && h.named(name)
}

// absoluteHost is the host of an absolute-form target
// ("http://host/path"), else nil.
func absoluteHost(target []byte) []byte {
	var rest []byte
	switch {
	case len(target) > 7 && equalFold(target[:7], "http://"):
		rest = target[7:]
	case len(target) > 8 && equalFold(target[:8], "https://"):
		rest = target[8:]
	default:
		return nil
	}
	if i := bytes.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if len(rest) == 0 {
		return nil
	}
	return rest
}

// originForm is an absolute-form target's path and query ("/" at least),
// else target as it is.
func originForm(target []byte) []byte {
	h := absoluteHost(target)
	if h == nil {
		return target
	}
	i := bytes.Index(target, []byte("://")) + 3 + len(h) // after the scheme's, not wherever h first appears ("http://h/")
	if i >= len(target) || target[i] != '/' {
		return append([]byte("/"), target[i:]...)
	}
	return target[i:]
}

func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// nextToken splits a comma-separated list: the first element (trimmed)
// and the rest.
func nextToken(v []byte) (tok, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		tok, rest = v[:i], v[i+1:]
	} else {
		tok = v
	}
	return bytes.Trim(tok, " \t"), rest
}

func lastToken(v []byte) []byte {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return bytes.Trim(v, " \t")
}

func hasToken(v []byte, want string) bool {
	for len(v) > 0 {
		var tok []byte
		tok, v = nextToken(v)
		if equalFold(tok, want) {
			return true
		}
	}
	return false
}

// equalFold is bytes.EqualFold for an ASCII s, without converting it.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// tokenTable marks the bytes of an RFC 9110 token (tchar).
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(c byte) bool { return tokenTable[c] }

// copyBuf lends 32 KiB buffers for copying bodies larger than what a
// bufio.Reader holds.
var copyBuf = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// copier copies a body from src to dst. It flushes dst whenever src has
// nothing buffered, before waiting on it. n counts the body's bytes read;
// srcErr and dstErr say which side failed.
type copier struct {
	dst    *bufio.Writer
	src    *bufio.Reader
	n      int64
	srcErr error
	dstErr error
}

// fill makes src have buffered bytes, flushing dst first when it has
// none; it reports false on an error (recorded).
func (c *copier) fill() bool {
	if c.src.Buffered() > 0 {
		return true
	}
	if c.dst.Buffered() > 0 {
		if err := c.dst.Flush(); err != nil {
			c.dstErr = err
			return false
		}
	}
	if _, err := c.src.Peek(1); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		c.srcErr = err
		return false
	}
	return true
}

// copyN copies n bytes (n < 0: until src ends, which is then no error).
func (c *copier) copyN(n int64) bool {
	var big *[32 << 10]byte
	defer func() {
		if big != nil {
			copyBuf.Put(big)
		}
	}()
	for n != 0 {
		if b := c.src.Buffered(); b > 0 {
			m := int64(b)
			if n > 0 && m > n {
				m = n
			}
			p, _ := c.src.Peek(int(m))
			if _, err := c.dst.Write(p); err != nil {
				c.dstErr = err
				return false
			}
			c.src.Discard(int(m))
			c.n += m
			if n > 0 {
				n -= m
			}
			continue
		}
		if c.dst.Buffered() > 0 {
			if err := c.dst.Flush(); err != nil {
				c.dstErr = err
				return false
			}
		}
		if n > 0 && n < int64(c.src.Size()) {
			if _, err := c.src.Peek(1); err != nil { // fills the buffer with what has come
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				c.srcErr = err
				return false
			}
			continue
		}
		// A large body: read straight into a big buffer (bufio.Reader
		// bypasses its own when empty), write straight from it.
		if big == nil {
			big = copyBuf.Get().(*[32 << 10]byte)
		}
		p := big[:]
		if n > 0 && int64(len(p)) > n {
			p = p[:n]
		}
		m, err := c.src.Read(p)
		if m > 0 {
			if _, werr := c.dst.Write(p[:m]); werr != nil {
				c.dstErr = werr
				return false
			}
			if werr := c.dst.Flush(); werr != nil {
				c.dstErr = werr
				return false
			}
			c.n += int64(m)
			if n > 0 {
				n -= int64(m)
			}
		}
		if err != nil {
			if err == io.EOF && n < 0 {
				return true
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.srcErr = err
			return false
		}
	}
	return true
}

// chunked copies a chunked body to its end, its trailer fields included.
// With frame it is passed on chunked (chunk sizes rewritten plainly, chunk
// extensions dropped); without, only the data is written (for an HTTP/1.0
// client, which cannot read chunks).
func (c *copier) chunked(frame bool) bool {
	var line [128]byte
	for {
		if !c.fill() {
			return false
		}
		l, err := c.readLine(line[:0])
		if err != nil {
			return false
		}
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		l = bytes.TrimRight(l, " \t")
		size, ok := parseHex(l)
		if !ok {
			c.srcErr = errBadChunk
			return false
		}
		if frame {
			var hb [20]byte
			h := strconv.AppendInt(hb[:0], size, 16)
			h = append(h, '\r', '\n')
			if _, err := c.dst.Write(h); err != nil {
				c.dstErr = err
				return false
			}
		}
		if size == 0 {
			break
		}
		if !c.copyN(size) {
			return false
		}
		if !c.fill() {
			return false
		}
		if l, err = c.readLine(line[:0]); err != nil {
			return false
		}
		if len(l) != 0 {
			c.srcErr = errBadChunk
			return false
		}
		if frame {
			if _, err := c.dst.WriteString("\r\n"); err != nil {
				c.dstErr = err
				return false
			}
		}
	}
	// Trailer fields, up to the empty line.
	var trailer head
	if err := trailer.readFields(c.src); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		c.srcErr = fmt.Errorf("%w: trailer: %w", errBadChunk, err)
		return false
	}
	if !frame {
		return true
	}
	for _, f := range trailer.fields {
		c.dst.Write(trailer.bytes(f.name))
		c.dst.WriteString(": ")
		c.dst.Write(trailer.bytes(f.value))
		c.dst.WriteString("\r\n")
	}
	if _, err := c.dst.WriteString("\r\n"); err != nil {
		c.dstErr = err
		return false
	}
	return true
}

// readLine reads a chunk-size line (at most 4 KiB) into buf.
func (c *copier) readLine(buf []byte) ([]byte, error) {
	for {
		frag, err := c.src.ReadSlice('\n')
		if len(buf)+len(frag) > 4096 {
			c.srcErr = errBadChunk
			return nil, c.srcErr
		}
		buf = append(buf, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.srcErr = err
			return nil, err
		}
	}
	buf = buf[:len(buf)-1]
	if len(buf) > 0 && buf[len(buf)-1] == '\r' {
		buf = buf[:len(buf)-1]
	}
	return buf, nil
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, true
}

// statusText is the reason phrase of the statuses the router answers
// with itself.
func statusText(code int) string {
	switch code {
	case 400:
		return "Bad Request"
	case 431:
		return "Request Header Fields Too Large"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}

// dateCache is the Date header's value, made once a second.
var dateCache atomic.Pointer[dateValue]

type dateValue struct {
	sec int64
	b   []byte
}

// appendDate appends the current time as a Date header's value.
func appendDate(b []byte) []byte {
	now := time.Now()
	d := dateCache.Load()
	if d == nil || d.sec != now.Unix() {
		d = &dateValue{sec: now.Unix(), b: now.UTC().AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT")}
		dateCache.Store(d)
	}
	return append(b, d.b...)
}
