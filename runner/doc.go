// Package runner is ganger's supervisor. It runs a set of processes the way
// the platform runs dynos and guarantees that none is left behind.
//
// Each process runs in its own process group with stdin on /dev/null and its
// stdout and stderr on one pipe, or on its own pseudo-terminal (see TTY). Output is read in large chunks and handed to a
// Sink as whole lines (a line is never split between two calls unless it is
// longer than MaxLine); lifecycle changes are reported as Events. However
// slow the Sink, every byte that a process and its descendants wrote reaches
// it before Run returns, and what the process wrote comes before the Event
// that reports its exit (off Linux, a pseudo-terminal's reader cannot be
// interrupted, and is waited for a bounded time). Rendering
// (prefixes, colour, timestamps) belongs to the Sink, see package logmux.
//
// A process on a pseudo-terminal that takes input (TTY.Input) can be
// attached to (Supervisor.Attach): the attachment gets the raw bytes read
// from the terminal, before they are split into lines, and writes input and
// sets the size. It is fed from the process's reader through a bounded
// buffer and never slows the process or the Sink (see AttachBuffer).
//
// Shutdown follows foreman's rule: the first process to exit stops the rest.
// The ladder sends each group its stop signal, waits up to the grace period and
// returns as soon as every group is empty, then sends SIGKILL to whatever is
// left. Kill skips the wait. A process group is only signalled while it has a
// pgid > 1 that ganger created.
//
// On Linux the supervisor also makes itself a child subreaper, so orphans that
// double-fork out of their group are reparented to ganger, reaped (no zombies)
// and stopped with the rest; direct children get SIGKILL as their
// parent-death signal; and a Watchdog, a small /bin/sh script holding a pipe,
// kills every recorded group when ganger itself dies of SIGKILL. Subreaper
// and KillTree serve the CLI's keeper, the outer of two ganger processes,
// which kills everything left below it, escapees in their own session
// included, when the inner one dies, however it dies.
//
// A single goroutine owns all mutable supervisor state; process goroutines
// report to it over channels. The package knows nothing of terminals, colour,
// the CLI or os/signal: cancellation arrives through ctx, forwarded signals
// through Supervisor methods.
package runner
