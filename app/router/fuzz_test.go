package router

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http/httputil"
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
		"GET http://example.com/p HTTP/1.1\r\nHost: x\r\n\r\n",
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
		if h.minor >= 1 && h.count("Host") != 1 {
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

// FuzzReadResponse feeds the response head and chunked body parsers
// arbitrary bytes from an app: they must never panic, what they accept
// must be safe to pass on, and a chunked body passed on must read back
// (by net/http's reader too) as the same data.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n5;a=b;c=\"d\"\r\nhello\r\n00\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\na\nhelloworld\n0\n\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
		"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"HTTP/1.1 200\r\nConnection: close, X-A\r\nX-A: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
		"HTTP/2 200\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var h head
		br := bufio.NewReaderSize(bytes.NewReader(in), 16)
		err := h.readResponse(br)
		if err != nil {
			known := []error{io.EOF, io.ErrUnexpectedEOF, errTooLarge, errBadVersion, errMalformed, errBadLength, errBadEncoding}
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("readResponse(%q): unexpected error %v", in, err)
		}
		if h.status < 100 || h.status > 999 {
			t.Fatalf("readResponse(%q): status %d", in, h.status)
		}
		for _, fl := range h.fields {
			name, v := h.bytes(fl.name), h.bytes(fl.value)
			for _, c := range name {
				if !isToken(c) {
					t.Fatalf("readResponse(%q): field name %q", in, name)
				}
			}
			if bytes.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("readResponse(%q): field value %q", in, v)
			}
		}
		if h.chunked && h.length >= 0 || h.untilClose && (h.chunked || !h.close) {
			t.Fatalf("readResponse(%q): chunked %v, length %d, until close %v", in, h.chunked, h.length, h.untilClose)
		}
		if !h.chunked {
			return
		}
		body, _ := io.ReadAll(br) // what follows the head

		var framed, data bytes.Buffer
		fw, dw := bufio.NewWriter(&framed), bufio.NewWriter(&data)
		cp := copier{dst: fw, src: bufio.NewReaderSize(bytes.NewReader(body), 16)}
		ok := cp.chunked(true)
		fw.Flush()
		cd := copier{dst: dw, src: bufio.NewReaderSize(bytes.NewReader(body), 16)}
		if okd := cd.chunked(false); okd != ok {
			t.Fatalf("chunked body %q: passed on framed %v, as bytes %v", body, ok, okd)
		}
		dw.Flush()
		if !ok {
			return
		}
		// What is passed on reads back as the same data, by this parser and
		// by net/http's.
		var again bytes.Buffer
		aw := bufio.NewWriter(&again)
		ca := copier{dst: aw, src: bufio.NewReader(bytes.NewReader(framed.Bytes()))}
		if !ca.chunked(false) {
			t.Fatalf("chunked body %q passed on as %q, which reads as %v", body, framed.Bytes(), ca.srcErr)
		}
		aw.Flush()
		if !bytes.Equal(again.Bytes(), data.Bytes()) {
			t.Fatalf("chunked body %q: data %q, passed on %q reads as %q", body, data.Bytes(), framed.Bytes(), again.Bytes())
		}
		got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(framed.Bytes())))
		if err != nil || !bytes.Equal(got, data.Bytes()) {
			t.Fatalf("chunked body %q passed on as %q: net/http reads %q, %v; want %q", body, framed.Bytes(), got, err, data.Bytes())
		}
	})
}
