package control

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version, sent in every request and response.
const Version = 1

// Request ops.
const (
	opHello   = "hello"
	opStatus  = "status"
	opRestart = "restart"
	opStop    = "stop"
	opLogs    = "logs"   // then a stream of records
	opAttach  = "attach" // then a terminal session
	opQuit    = "quit"   // then the connection stays open until the server closes
)

// streaming reports whether op turns the connection into a stream after its
// response line.
func streaming(op string) bool { return op == opLogs || op == opAttach || op == opQuit }

// Size limits: a request is a few names; a response a few hundred processes.
const (
	maxRequestBytes  = 1 << 20
	maxResponseBytes = 16 << 20
)

type request struct {
	V     int      `json:"v"`
	Op    string   `json:"op"`
	Names []string `json:"names,omitempty"`
	// logs
	Lines  int  `json:"lines,omitempty"`
	Follow bool `json:"follow,omitempty"`
	// attach
	Name string `json:"name,omitempty"`
	Size *Size  `json:"size,omitempty"`
}

// streamLine is one line of a logs stream: a Record, or, last, the error
// that ended the stream.
type streamLine struct {
	Record
	Error string `json:"error,omitempty"`
}

type response struct {
	V     int       `json:"v"`
	PID   int       `json:"pid"`
	Root  string    `json:"root"`
	Log   string    `json:"log,omitempty"`
	Procs []Process `json:"procs,omitempty"`
	Error string    `json:"error,omitempty"`
}

// refusal is the whole answer to a peer that may not talk to us: a
// response without the server's pid and root.
type refusal struct {
	V     int    `json:"v"`
	Error string `json:"error"`
}

// decodeRequest reads one request from r and checks its version and op.
func decodeRequest(r io.Reader) (request, error) {
	return readRequest(json.NewDecoder(io.LimitReader(r, maxRequestBytes)))
}

// readRequest decodes one request from dec and checks its version and op.
// What follows the request stays in dec's buffer (dec.Buffered), for a
// stream.
func readRequest(dec *json.Decoder) (request, error) {
	var req request
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("bad control request: %w", err)
	}
	if req.V != Version {
		return req, fmt.Errorf("control protocol version %d is not supported by this ganger (speaks %d); use the same ganger binary for start and ps/restart/stop", req.V, Version)
	}
	switch req.Op {
	case opHello, opStatus, opRestart, opStop, opLogs, opQuit:
	case opAttach:
		if req.Name == "" {
			return req, errors.New("bad control request: attach needs the name of a process")
		}
	default:
		return req, fmt.Errorf("unknown control request %q; want status, restart, stop, logs, attach, quit or hello", req.Op)
	}
	return req, nil
}

// writeJSON writes v as one JSON line.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Attach frames, client to server: a type byte, a 4-byte big-endian payload
// length, the payload.
const (
	frameData   = 'd' // input for the terminal
	frameResize = 'r' // two big-endian uint16: columns, rows
	// maxFrame bounds a frame's payload; a client sends input in pieces
	// no larger.
	maxFrame = 64 << 10
)

// appendFrame appends a frame of type typ carrying payload to b.
func appendFrame(b []byte, typ byte, payload []byte) []byte {
	b = append(b, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

// resizePayload is a resize frame's payload for sz, clamped to 1..65535.
func resizePayload(sz Size) []byte {
	clamp := func(n int) uint16 { return uint16(min(max(n, 1), 0xffff)) }
	b := binary.BigEndian.AppendUint16(nil, clamp(sz.Cols))
	return binary.BigEndian.AppendUint16(b, clamp(sz.Rows))
}

// readFrame reads one frame into buf (grown as needed) and returns its type
// and payload.
func readFrame(r *bufio.Reader, buf []byte) (typ byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("bad attach frame: %d bytes, at most %d", n, maxFrame)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	payload = buf[:n]
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// skipNewline drops the newline that ends the JSON line before a stream, if
// it is next in r.
func skipNewline(r *bufio.Reader) error {
	b, err := r.Peek(1)
	if err != nil {
		return err
	}
	if b[0] == '\n' {
		_, err = r.Discard(1)
	}
	return err
}
