package runner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Spec describes one process to run.
type Spec struct {
	Name       string         // instance name, "web.1"
	Type       string         // process type, "web"
	Argv       []string       // program and arguments; see procfile.ShellArgv
	Dir        string         // working directory
	Env        []string       // the complete environment, "KEY=VALUE", each key once; passed as is
	Port       int            // the PORT it was given (see Preboot); Ready.Port probes it
	StopSignal syscall.Signal // sent to the group on stop; 0 means SIGTERM
	TTY        *TTY           // run on a pseudo-terminal of this size; nil: a pipe

	// Restart says whether the supervisor starts the process again when it
	// exits on its own (see RestartPolicy and Options.Backoff).
	Restart RestartPolicy
	// Oneshot marks a process that runs to completion (a migration, an asset
	// build): exit 0 is success and stops nothing; any other exit is a
	// failure. Processes that name its type in After start once it succeeded.
	Oneshot bool
	// CanDie makes the process's exit, whatever its code, leave the rest
	// running (overmind's --can-die).
	CanDie bool
	// Ready says how to tell that the process is up; the zero value means
	// as soon as it has started.
	Ready Readiness
	// After names process types that must be ready (oneshots: finished with
	// exit 0) before this process starts, each time it starts.
	After []string
	// Preboot, when set, makes a restart of the running process (Restart,
	// or Update with a changed Spec) start its successor first, beside it,
	// on the other of Preboot.Ports; once the successor is ready (Ready),
	// the old one gets the stop ladder. A successor that exits or is not
	// ready in time is stopped and the old one keeps running.
	Preboot *Preboot
}

// Preboot is how a process is restarted with its successor booting beside
// it, as the platform's preboot does for web dynos behind its router.
type Preboot struct {
	// Ports are the two ports the process alternates between: a
	// successor runs on the one its predecessor does not hold, with Port
	// and the PORT in Env set to it.
	Ports [2]int
	// Timeout bounds a successor's boot: it must be ready within it, else
	// it is stopped; 0 means 60 s (the platform's boot timeout).
	Timeout time.Duration
}

// DefaultBootTimeout is a successor's boot timeout when Preboot.Timeout is 0.
const DefaultBootTimeout = 60 * time.Second

// withPort returns s running on port: Port and the PORT in Env (a copy)
// set to it.
func (s Spec) withPort(port int) Spec {
	env := append([]string(nil), s.Env...)
	kv := "PORT=" + strconv.Itoa(port)
	i := slices.IndexFunc(env, func(e string) bool { return strings.HasPrefix(e, "PORT=") })
	if i < 0 {
		env = append(env, kv)
	} else {
		env[i] = kv
	}
	s.Env, s.Port = env, port
	return s
}

// otherPort is the port of Preboot.Ports that port is not.
func (p *Preboot) otherPort(port int) int {
	if port == p.Ports[0] {
		return p.Ports[1]
	}
	return p.Ports[0]
}

// bootTimeout is Timeout, or its default.
func (p *Preboot) bootTimeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultBootTimeout
}

// RestartPolicy says what happens when a process exits on its own.
type RestartPolicy int

// The restart policies.
const (
	// RestartNever: the exit stops the formation (foreman's rule), unless
	// the process is a oneshot that succeeded, CanDie, or Options.KeepGoing.
	RestartNever RestartPolicy = iota
	// RestartOnFailure: a non-zero exit or a death by signal starts it again
	// after a backoff; exit 0 leaves it exited and the rest running.
	RestartOnFailure
	// RestartAlways: every exit starts it again after a backoff.
	RestartAlways
)

// String returns the policy's name as ganger.yml spells it.
func (p RestartPolicy) String() string {
	switch p {
	case RestartOnFailure:
		return "on-failure"
	case RestartAlways:
		return "always"
	}
	return "never"
}

// ParseRestartPolicy reads "never", "on-failure" or "always".
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	switch strings.TrimSpace(s) {
	case "never", "no", "":
		return RestartNever, nil
	case "on-failure":
		return RestartOnFailure, nil
	case "always":
		return RestartAlways, nil
	}
	return 0, fmt.Errorf("unknown restart policy %q (use never, on-failure or always)", s)
}

// Readiness says how to tell that a process is up. With both set, either one
// makes it ready.
type Readiness struct {
	// Port: its PORT accepts TCP connections on 127.0.0.1 or ::1. There is
	// no notification for a listening socket, so the port is tried every
	// Options.ProbeInterval.
	Port bool
	// Line is a regular expression (RE2 syntax); the process is ready when a
	// line of its output matches it.
	Line string
}

// IsZero reports whether r asks for nothing: the process is ready once started.
func (r Readiness) IsZero() bool { return !r.Port && r.Line == "" }

func (s Spec) stopSignal() syscall.Signal {
	if s.StopSignal == 0 {
		return syscall.SIGTERM
	}
	return s.StopSignal
}
