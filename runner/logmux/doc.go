// Package logmux renders the supervisor's output and events as the
// interleaved, prefixed log users know from foreman:
//
//	14:03:07 web.1  | listening on :5000
//	14:03:07 system | sending SIGTERM to all processes
//
// The name column is padded to max(6, the longest name); only the prefix is
// coloured, in the order cyan, yellow, green, magenta, red, blue; ganger's own
// messages use the name "system". Whether to colour is decided by the caller
// (the CLI), never here.
//
// Every chunk of whole lines a process produced is rendered into that
// process's own buffer and written with one Write under one lock, so lines of
// different processes never tear and the cost is per chunk, not per line: the
// timestamp is formatted at most once per second per process and the coloured
// prefix once per process. Bytes pass through unchanged (invalid UTF-8 and
// escape sequences included). A slow writer slows the children
// (back-pressure); nothing is dropped. After the first write error (a closed
// pipe) everything is discarded and the error returned, so the supervisor can
// shut down.
package logmux
