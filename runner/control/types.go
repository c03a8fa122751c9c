package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Process states as reported by Handler.Status. The set may grow; consumers
// of "ps --json" should show an unknown state as it is.
const (
	StateRunning    = "running"     // the process is up
	StateStopping   = "stopping"    // a stop signal was sent, it has not exited yet
	StateStopped    = "stopped"     // stopped on request (ganger stop); restart starts it
	StateExited     = "exited"      // exited with status 0 and is not restarted
	StateCrashed    = "crashed"     // exited non-zero or was killed, and is not restarted
	StateBackingOff = "backing-off" // exited and waits to be restarted
)

// Process is one process instance as "ganger ps" shows it. Its JSON form is
// the stable output of "ganger ps --json" (an array of these): fields may be
// added, none will be renamed or removed.
//
//	{"name":"web.1","type":"web","state":"running","pid":4242,"port":5000,
//	 "started":"2026-01-02T15:04:05Z","restarts":1,"exit_code":null}
type Process struct {
	// Name is the instance name, e.g. "web.1".
	Name string `json:"name"`
	// Type is the Procfile entry the instance belongs to, e.g. "web".
	Type string `json:"type"`
	// State is one of the State* constants.
	State string `json:"state"`
	// PID is the process id while it runs, 0 otherwise.
	PID int `json:"pid"`
	// Port is the PORT it was given, 0 if none.
	Port int `json:"port"`
	// Started is when the current run started; absent when not running.
	Started time.Time `json:"started,omitzero"`
	// Restarts counts the times ganger started it again after the first start.
	Restarts int `json:"restarts"`
	// ExitCode is the exit status of the last run; null if it has not exited
	// yet or was killed by a signal.
	ExitCode *int `json:"exit_code"`
	// Signal names the signal that ended the last run ("SIGKILL"), if one did.
	Signal string `json:"signal,omitempty"`
}

// Handler is what the server asks to act on the formation; the CLI implements
// it on top of the supervisor. Methods may be called concurrently, from
// several connections at once, and must return when ctx is done. An error's
// message is sent to the client verbatim, so it should read well on its own
// ("unknown process \"wbe\"; known: web, worker").
type Handler interface {
	// Status lists every process, in the order ps should show them.
	Status(ctx context.Context) ([]Process, error)
	// Restart restarts the named processes (names or types), starting stopped
	// ones; no names means all.
	Restart(ctx context.Context, names []string) error
	// Stop stops the named processes (names or types); no names means all.
	Stop(ctx context.Context, names []string) error
	// Logs sends the recent records of the named processes (none: all;
	// names or types), the last req.Lines of them (0: none), then, with
	// req.Follow, every new one until ctx ends. It returns when done. An
	// error returned before the first send reaches the client as the
	// request's error; after it, it ends the stream with that error.
	Logs(ctx context.Context, req LogsRequest, send func(Record) error) error
	// Attach connects to one process's terminal (name is an instance name
	// such as "web.1"), of size when it is not zero. ctx bounds the call
	// only: the connection lasts until the Attached is closed or its Read
	// ends.
	Attach(ctx context.Context, name string, size Size) (Attached, error)
	// Quit begins the stop of the whole start, as Ctrl-C does, and returns
	// at once.
	Quit(ctx context.Context) error
}

// LogsRequest asks for output records (see Handler.Logs).
type LogsRequest struct {
	Names  []string // names or types; none: every process
	Lines  int      // how many recent records to send first; 0: none
	Follow bool     // then send new ones until the client goes
}

// The streams of a Record.
const (
	StreamOut    = "out"    // what the process wrote (stdout and stderr)
	StreamSystem = "system" // what ganger said about it
)

// Record is one line of output. Its JSON form, one object a line, is what
// "ganger logs --json" prints:
//
//	{"time":"2026-01-02T15:04:05.123Z","name":"web.1","stream":"out","text":"listening on 5000"}
type Record struct {
	Time   time.Time `json:"time"`
	Name   string    `json:"name"`
	Stream string    `json:"stream"` // StreamOut or StreamSystem
	Text   string    `json:"text"`   // without its newline
}

// Size is a terminal's size in character cells.
type Size struct {
	Cols int `json:"cols"`
	Rows int `json:"rows"`
}

// Attached is a connection to a process's terminal: Read returns its raw
// output (io.EOF once it has exited or the connection is closed), Write
// sends input, Resize resizes its terminal, Close detaches (the process
// keeps running).
type Attached interface {
	io.ReadWriteCloser
	Resize(Size) error
}

// ErrNotRunning is matched (errors.Is) by the error a client gets when no
// ganger serves the root.
var ErrNotRunning = errors.New("no ganger is running")

// NotRunningError says that nothing listens on the root's socket: the socket
// or its directory is missing, or connecting was refused (a stale socket).
type NotRunningError struct {
	Root   string // canonical app root
	Socket string // socket path tried
	Err    error  // the underlying cause, if any
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("no ganger is running for %s (socket %s)", e.Root, e.Socket)
}

// Is makes errors.Is(err, ErrNotRunning) true.
func (e *NotRunningError) Is(target error) bool { return target == ErrNotRunning }

func (e *NotRunningError) Unwrap() error { return e.Err }

// AlreadyRunningError is returned by Listen when another server holds the
// root. PID is 0 if it could not be learnt.
type AlreadyRunningError struct {
	Root   string
	Socket string
	PID    int
}

func (e *AlreadyRunningError) Error() string {
	pid := "pid unknown"
	if e.PID > 0 {
		pid = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("ganger is already running for %s (%s); stop it or use its socket %s",
		e.Root, pid, e.Socket)
}

// RemoteError is an error the server sent back: the handler's error, or the
// server's refusal of the request. Its message is the server's, verbatim.
type RemoteError struct {
	Op  string // the request op: "status", "restart", "stop", "hello", "logs", "attach", "quit"
	Msg string
}

func (e *RemoteError) Error() string { return e.Msg }

// ServerInfo describes a running server, as answered to a "hello".
type ServerInfo struct {
	PID     int    // the server process
	Root    string // its canonical app root
	Version int    // its protocol version
	Log     string // the start's log file, when its output goes to one (start -D)
}
