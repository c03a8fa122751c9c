package runner

import (
	"syscall"
	"time"
)

// EventKind says what happened.
type EventKind int

// The kinds of Event.
const (
	// Started: Name runs as PID.
	Started EventKind = iota + 1
	// Exited: Name's process exited with Code, or was killed by Signal.
	Exited
	// StartFailed: Name could not be started; Err says why.
	StartFailed
	// System: a message from the supervisor itself, in Msg.
	System
	// Ready: Name is up (see Spec.Ready), Elapsed after it started; Port is
	// set when its port answered, Msg holds the line when a line matched.
	Ready
)

// Event is a lifecycle change reported to the Sink.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Name    string         // the process; "" for System events
	PID     int            // Started, Exited
	Code    int            // Exited: exit code, or 128+Signal when killed
	Signal  syscall.Signal // Exited: the signal that killed it, or 0
	Err     error          // StartFailed
	Msg     string         // System; Ready: the matching line
	Port    int            // Ready: the port that accepted a connection
	Elapsed time.Duration  // Ready: time from start to ready
	// StoppedBy is set on the System event that announces a shutdown
	// caused by a process's exit: the name of that process.
	StoppedBy string
	// Interrupted is set on the System event that announces a shutdown
	// asked for from outside: the context given to Run was cancelled.
	Interrupted bool
	// Asked is set on an Exited event when ganger had asked the process to
	// stop (a stop, a restart, an update, or the formation's shutdown): the
	// exit is not a crash.
	Asked bool
	// GaveUp is set on the System event "giving up on NAME: ..." that ends
	// a process's automatic restarts: the name of that process.
	GaveUp string
}

// Sink receives everything the supervisor has to say. Implementations must be
// safe for concurrent use: Lines is called from each process's own reader
// goroutine, Event from the supervisor goroutine.
type Sink interface {
	// Lines returns the writer for one process's output. It is called once per
	// process start, before the process runs.
	Lines(name string) LineWriter
	// Event reports a lifecycle change. An error means output can no longer
	// be delivered (a closed pipe): the supervisor shuts down.
	Event(Event) error
}

// LineWriter receives one process's output, always from the same goroutine.
type LineWriter interface {
	// WriteLines is given one or more whole lines, each ending in '\n'. It
	// must not retain p. An error means output can no longer be delivered:
	// the supervisor shuts down and further output is discarded.
	WriteLines(p []byte) error
}
