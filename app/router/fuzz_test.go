package router

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReadRequest feeds the request parser arbitrary bytes: it must never
// panic, and what it accepts must be safe to pass on: a method that is a
// token, a target and fields without line breaks or control bytes, one
// framing at most.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /a\"b\\c\xff HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"POST /x?y=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET http://example.com/p HTTP/1.1\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"GET / HTTP/1.1\nHost: h\n\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
		"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, X-A\r\nUpgrade: websocket\r\nX-A: 1\r\n\r\n",
		"hello there\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var h head
		err := h.readRequest(bufio.NewReaderSize(bytes.NewReader(in), 16))
		if err != nil {
			known := []error{io.EOF, io.ErrUnexpectedEOF, errTooLarge, errBadVersion, errMalformed, errBadLength, errBadEncoding}
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("readRequest(%q): unexpected error %v", in, err)
		}
		method, target := h.bytes(h.start[0]), h.bytes(h.start[1])
		if len(method) == 0 || len(target) == 0 {
			t.Fatalf("readRequest(%q): empty method %q or target %q", in, method, target)
		}
		for _, c := range method {
			if !isToken(c) {
				t.Fatalf("readRequest(%q): method %q", in, method)
			}
		}
		if bytes.ContainsAny(target, " \r\n\x00") {
			t.Fatalf("readRequest(%q): target %q", in, target)
		}
		for _, fl := range h.fields {
			name, v := h.bytes(fl.name), h.bytes(fl.value)
			for _, c := range name {
				if !isToken(c) {
					t.Fatalf("readRequest(%q): field name %q", in, name)
				}
			}
			if bytes.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("readRequest(%q): field value %q", in, v)
			}
		}
		if h.chunked && h.length >= 0 || h.length < -1 {
			t.Fatalf("readRequest(%q): chunked %v and length %d", in, h.chunked, h.length)
		}
		if h.minor >= 1 && h.count("Host") != 1 && absoluteHost(target) == nil {
			t.Fatalf("readRequest(%q): HTTP/1.1 without one Host", in)
		}
		// What is passed on reads back the same.
		var out bytes.Buffer
		out.Write(method)
		out.WriteString(" ")
		out.Write(target)
		out.WriteString(" HTTP/1.1\r\n")
		for _, fl := range h.fields {
			out.Write(h.bytes(fl.name))
			out.WriteString(": ")
			out.Write(h.bytes(fl.value))
			out.WriteString("\r\n")
		}
		out.WriteString("\r\n")
		var again head
		if err := again.readRequest(bufio.NewReader(&out)); err != nil && !strings.Contains(err.Error(), "Host") {
			if h.minor == 0 && errors.Is(err, errMalformed) {
				return // an HTTP/1.0 request without Host is no HTTP/1.1 one
			}
			if h.minor == 0 && (errors.Is(err, errBadEncoding) || errors.Is(err, errBadLength)) {
				return // HTTP/1.0 ignores Transfer-Encoding
			}
			t.Fatalf("readRequest(%q) passed on %q, which reads as %v", in, out.Bytes(), err)
		}
	})
}
