package control

import (
	"encoding/json"
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
)

// Size limits: a request is a few names; a response a few hundred processes.
const (
	maxRequestBytes  = 1 << 20
	maxResponseBytes = 16 << 20
)

type request struct {
	V     int      `json:"v"`
	Op    string   `json:"op"`
	Names []string `json:"names,omitempty"`
}

type response struct {
	V     int       `json:"v"`
	PID   int       `json:"pid"`
	Root  string    `json:"root"`
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
	var req request
	dec := json.NewDecoder(io.LimitReader(r, maxRequestBytes))
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("bad control request: %w", err)
	}
	if req.V != Version {
		return req, fmt.Errorf("control protocol version %d is not supported by this ganger (speaks %d); use the same ganger binary for start and ps/restart/stop", req.V, Version)
	}
	switch req.Op {
	case opHello, opStatus, opRestart, opStop:
	default:
		return req, fmt.Errorf("unknown control request %q; want status, restart, stop or hello", req.Op)
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
