// Package journal keeps the recent output of a running formation in memory,
// so that "ganger logs" can show it and follow it, and writes the whole of it
// to a log file that rotates.
//
// # What is kept
//
// A Journal is fed by the runner.Sink that Tee returns, which passes
// everything on to the Sink it wraps (the logmux.Mux users read) and records:
//
//   - each line a process wrote, without its '\n', as a Record of Stream
//     "out" under the process's name ("web.1");
//   - each event, with the text and name logmux.EventLine gives it (the text
//     users see, escaped), as a Record of Stream "system": "started with pid
//     42" under "web.1", "sending SIGTERM to all processes" under "system".
//
// Memory is bounded per name: each process (and "system") keeps its last
// Options.Lines records (1000 by default) and at most Options.Bytes bytes of
// their text (256 KiB by default), whichever bound is reached first; older
// records are dropped. A line longer than MaxText (4 KiB) is kept cut to
// MaxText bytes (at a UTF-8 boundary) followed by " [… N bytes cut]"; the
// Sink downstream still gets it whole. A process removed from the formation
// keeps its records, so memory is bounded by the names ever run.
//
// Names or types select records (Tail, Follow): "web.1" is a name, "web" the
// type of every "web.N"; no names select everything, "system" included.
// Records are ordered across processes by when they were recorded.
//
// # Cost
//
// Recording happens on the process's own reader goroutine (Lines) or the
// supervisor's (Event), on the output's hot path: a chunk of lines is
// copied once and stored whole, as one batch, under one mutex; its lines
// are split (and cut) only when read. A ring keeps its newest batches and
// drops the oldest once the newer ones fill its bounds, so it holds at most
// one batch beyond them; a chunk larger than Options.Bytes is kept only as
// its last lines within it. Followers never slow it:
// each has a bounded queue (FollowQueue records); when a follower is too
// slow its queue is full, further records are skipped for it, and it is
// told so by a "system" record "N lines skipped (the reader was too slow)".
// Followers are woken through a channel each, never by polling.
//
// # The log file
//
// RotatingFile is an io.WriteCloser that appends to a file and, when a write
// would take it past its size cap, renames it to PATH.1 (PATH.1 to PATH.2,
// and so on, keeping a given number of old files) and starts a new one. It
// rotates only between writes: each write (whole lines from a logmux.Mux)
// lands whole in one file.
package journal
