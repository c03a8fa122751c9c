// Package control is ganger's control plane: the Unix socket through which
// "ganger ps", "restart", "stop", "logs", "attach" and "quit" talk to a
// running "ganger start". It owns the socket's location and permissions, the wire
// protocol, the client and server ends, and the rendering of the ps table.
// It does not know the supervisor: the server calls a small Handler that the
// CLI implements by adapting package runner.
//
// # Where the socket lives
//
// One socket per app root (the directory holding the Procfile), named by the
// first 16 hex digits of the SHA-256 of the canonical absolute root, plus
// ".sock", so deep roots such as git worktrees never overflow sun_path
// (108 bytes on Linux, 104 on macOS). The directory is
//
//   - $XDG_RUNTIME_DIR/ganger, when XDG_RUNTIME_DIR is an absolute path to a
//     real directory owned by us with no group or other access;
//   - otherwise $TMPDIR/ganger-UID (or /tmp/ganger-UID).
//
// TMPDIR/ganger-UID is a name any user can take first. When something of
// another user stands there (a directory, a symlink, a file), the directory
// is $HOME/.cache/ganger/sock instead; the server and its clients make the
// same choice from the same Lstat, and a client that finds no server in the
// usual directory looks in that one too. Without HOME it is refused.
//
// Either way the directory is created with mode 0700 and, created or found,
// must be a real directory (not a symlink) owned by our uid with mode 0700;
// anything else is refused with a message saying what to remove or chmod.
// The environment is passed in as Options (see DefaultOptions); the package
// never reads it itself.
//
// # Safety
//
// Only a Unix socket, never TCP. The socket is chmod 0600 after bind inside
// the 0700 directory. Every accepted connection's peer uid is read with
// SO_PEERCRED (LOCAL_PEERCRED on macOS) and a peer of another uid is refused;
// the client checks the server's uid the same way, and a refused peer is
// told so and nothing else. A pre-existing symlink at the directory, the
// socket, .ganger or the lock file is refused, never followed.
//
// A server holds an flock on ROOT/.ganger/start.lock for its whole life, so
// exactly one server runs per root, wherever its socket is (a second start
// with another TMPDIR is refused too). The lock file holds the server's pid
// and socket path; a second server fails with *AlreadyRunningError naming
// both. ganger creates .ganger with mode 0700 and a .gitignore of "*" when it
// is missing, and refuses a .ganger that is a symlink, not a directory or
// another user's. A socket file left by a crashed run is removed only after
// a connect to it fails with ECONNREFUSED. On exit the server removes its
// socket only if the path still names the socket it created, then removes
// its lock file (.ganger stays).
//
// # Protocol
//
// One request per connection: the client writes one JSON object and a
// newline, the server answers with one JSON object and a newline. Both carry
// "v" (Version); a server answers a request of another version with an
// error. Requests are {"v":1,"op":"status"|"restart"|"stop"|"hello"|"logs"|
// "attach"|"quit","names":[...]} (logs adds "lines" and "follow", attach
// "name" and "size":{"cols":C,"rows":R}); responses are {"v":1,"pid":N,
// "root":"/app","procs":[...],"error":"..."}. A handler error comes back as
// the error string and the client returns it as a *RemoteError. For status,
// restart, stop and hello the server then closes the connection; reading the
// request and writing the answer are bounded by a deadline.
//
// After an answer without error, the connection of logs, attach and quit
// goes on as a stream, with no deadline; it ends when the server closes
// (Serve's ctx ends or Close is called), and the new ops came without a new
// version (an older server refuses them as unknown ops):
//
//   - logs: the server writes one Record a line ({"time":...,"name":...,
//     "stream":"out"|"system","text":...}) and closes when Handler.Logs
//     returns. The response line is written with the first record, so that
//     an error before any record is the request's error; an error after
//     records ends the stream with a last line {"error":"..."}. The client
//     closing its end cancels the handler's ctx.
//   - attach: server to client, the terminal's raw output bytes; client to
//     server, frames of a type byte, a 4-byte big-endian length and the
//     payload: 'd' input, 'r' a resize (two big-endian uint16: columns,
//     rows). The end of either side ends the session; the process keeps
//     running.
//   - quit: the server calls Handler.Quit, answers, and holds the connection
//     open until Close, which closes it after removing the socket and
//     releasing the lock: the client's read ends once the start has ended
//     and a new one can begin.
//
// The peer uid is checked on every connection, streams included: only the
// same user may read the logs, attach or quit.
package control
