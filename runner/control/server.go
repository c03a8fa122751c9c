package control

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ioTimeout bounds reading a request and writing a response on the server
// side; the handler itself is bounded only by the Serve context.
const ioTimeout = 10 * time.Second

// helloTimeout bounds asking an existing server for its pid in Listen.
const helloTimeout = 2 * time.Second

// Server is a listening control socket for one app root. Create it with
// Listen, run it with Serve; Close releases it if Serve is never called.
type Server struct {
	loc      location
	uid, pid int
	ln       *net.UnixListener
	lock     *os.File
	sockInfo fs.FileInfo // the socket file as bound, to remove only that one
	log      string      // the start's log file, for ps; set before Serve

	served    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	closing   chan struct{} // closed when Close begins: streams end

	mu     sync.Mutex
	parked []*net.UnixConn // quit connections, held open until Close
	closed bool            // Close has closed parked: close new ones at once
}

// Listen takes the app root's control socket: it takes the root's lock in
// ROOT/.ganger (failing with *AlreadyRunningError, naming the other
// server's pid and socket, if another server holds it), creates and checks
// the socket directory, replaces a stale socket left by a crashed run,
// binds, and chmods the socket 0600. ctx bounds talking to an existing
// server.
func Listen(ctx context.Context, root string, opt Options) (*Server, error) {
	uid := os.Getuid()
	loc, err := locate(root, opt, uid)
	if err != nil {
		return nil, err
	}
	appDir, err := openAppDir(loc.appDir, uid)
	if err != nil {
		return nil, err
	}
	lock, err := lockFile(appDir, lockName, uid)
	appDir.Close()
	if errors.Is(err, errLocked) {
		return nil, alreadyRunning(ctx, loc, uid)
	}
	if err != nil {
		return nil, err
	}
	s := &Server{loc: loc, uid: uid, pid: os.Getpid(), lock: lock, closing: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.releaseLock()
		}
	}()
	// The lock file names us, and our socket, while we are not answering
	// yet.
	if err := lock.Truncate(0); err != nil {
		return nil, fmt.Errorf("cannot write lock file %s: %w", loc.lock, err)
	}
	if _, err := lock.WriteAt(fmt.Appendf(nil, "%d\n%s\n", s.pid, loc.socket), 0); err != nil {
		return nil, fmt.Errorf("cannot write lock file %s: %w", loc.lock, err)
	}
	if loc.displaced != "" {
		if err := os.MkdirAll(filepath.Dir(loc.dir), 0o700); err != nil {
			return nil, fmt.Errorf("cannot create control socket dir %s (%s is another user's): %w", loc.dir, loc.displaced, err)
		}
	}
	if err := prepareDir(loc.dir, uid); err != nil {
		return nil, err
	}
	if err := clearStale(ctx, loc, uid); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: loc.socket, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("cannot listen on control socket %s: %w", loc.socket, err)
	}
	// We remove the socket ourselves, and only if it is still ours.
	ln.SetUnlinkOnClose(false)
	s.ln = ln
	fi, err := os.Lstat(loc.socket)
	if err == nil {
		s.sockInfo = fi
		err = os.Chmod(loc.socket, 0o600)
	}
	if err != nil {
		ln.Close()
		if fi != nil {
			os.Remove(loc.socket)
		}
		return nil, fmt.Errorf("cannot secure control socket %s: %w", loc.socket, err)
	}
	ok = true
	return s, nil
}

// alreadyRunning builds the error for a root whose lock another process
// holds. The lock file names that server's pid and socket (which may not
// be where ours would be: it may have had another TMPDIR); the server is
// asked for its pid there, else the lock file's is taken.
func alreadyRunning(ctx context.Context, loc location, uid int) error {
	pid, socket := readLock(loc.lock)
	if socket != "" {
		loc.socket = socket
	}
	e := &AlreadyRunningError{Root: loc.root, Socket: loc.socket, PID: pid}
	ctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	if resp, err := roundTrip(ctx, loc, uid, request{Op: opHello}); err == nil {
		e.PID = resp.PID
	}
	return e
}

// readLock returns the pid and the socket path a lock file names, each
// zero when it does not.
func readLock(path string) (pid int, socket string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, ""
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	pid, _ = strconv.Atoi(strings.TrimSpace(first))
	socket, _, _ = strings.Cut(rest, "\n")
	if !filepath.IsAbs(socket) {
		socket = ""
	}
	return pid, socket
}

// clearStale removes a socket file left by a crashed server. The caller
// holds the root's lock, so no well-behaved server can own it; it is still
// removed only after connecting to it is refused.
func clearStale(ctx context.Context, loc location, uid int) error {
	fi, err := os.Lstat(loc.socket)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot check control socket %s: %w", loc.socket, err)
	}
	if err := checkSocket(loc.socket, fi.Mode(), ownerOf(fi), uid); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", loc.socket)
	switch {
	case err == nil:
		c.Close()
		return &AlreadyRunningError{Root: loc.root, Socket: loc.socket}
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case !isRefused(err):
		return fmt.Errorf("cannot check control socket %s: %w; if no ganger is running for %s, remove it", loc.socket, err, loc.root)
	}
	if err := os.Remove(loc.socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove stale control socket %s: %w", loc.socket, err)
	}
	return nil
}

// SetLog names the file where the start's output goes (a detached start's
// log), for "ganger ps". Call it before Serve.
func (s *Server) SetLog(path string) { s.log = path }

// Socket returns the socket path.
func (s *Server) Socket() string { return s.loc.socket }

// Displaced returns, when the socket is in the fallback directory under
// HOME, the usual socket directory that another user's file or directory
// kept it from (worth a warning: someone took that name first), else "".
func (s *Server) Displaced() string { return s.loc.displaced }

// Root returns the canonical app root the server is for.
func (s *Server) Root() string { return s.loc.root }

// Serve answers requests with h until ctx ends (or Close is called), then
// waits for the requests in flight, removes the socket if it is still the
// one Listen created, releases the lock and returns nil. Requests are served
// concurrently; their handler calls get ctx. Serve may be called once.
func (s *Server) Serve(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("control: Serve needs a handler")
	}
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("control: Serve called twice")
	}
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	var backoff time.Duration
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				break
			}
			// Out of fds or a connection aborted before accept: wait a
			// little and go on, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		backoff = 0
		wg.Go(func() { s.handle(ctx, c, h) })
	}
	wg.Wait()
	return s.Close()
}

// handle answers one connection.
func (s *Server) handle(ctx context.Context, c *net.UnixConn, h Handler) {
	keep := false
	defer func() {
		if !keep {
			c.Close()
		}
	}()
	// Shutting down ends a read in progress, and only that: the answer
	// saying so must still be written. (Ending the write too raced with the
	// write deadline set below, and the client could get EOF instead.)
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := s.authorize(c); err != nil {
		// A peer of another uid learns that it is refused, and nothing
		// of this ganger: not its pid, not the app it runs.
		c.SetWriteDeadline(time.Now().Add(ioTimeout))
		_ = writeJSON(c, refusal{V: Version, Error: err.Error()})
		return
	}
	resp := response{V: Version, PID: s.pid, Root: s.loc.root, Log: s.log}
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	dec := json.NewDecoder(io.LimitReader(c, maxRequestBytes))
	req, err := readRequest(dec)
	if err == nil && streaming(req.Op) {
		if !stop() {
			s.answer(ctx, c, resp, ctx.Err()) // shutting down
			return
		}
		// A stream lasts as long as it lasts: no request deadline, and
		// its own watch on ctx (and on Close).
		c.SetReadDeadline(time.Time{})
		rest := bufio.NewReader(io.MultiReader(dec.Buffered(), c))
		keep = s.stream(ctx, c, rest, h, req, resp)
		return
	}
	if err == nil {
		resp.Procs, err = dispatch(ctx, h, req)
	}
	s.answer(ctx, c, resp, err)
}

// answer writes resp, or err in it when err is set.
func (s *Server) answer(ctx context.Context, c *net.UnixConn, resp response, err error) error {
	if err != nil {
		resp.Procs = nil
		resp.Error = err.Error()
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			resp.Error = "ganger is shutting down; the request was not completed"
		}
		if resp.Error == "" {
			resp.Error = "request failed"
		}
	}
	c.SetWriteDeadline(time.Now().Add(ioTimeout))
	// A failed write means the client went away; there is no one to tell.
	err = writeJSON(c, resp)
	c.SetWriteDeadline(time.Time{})
	return err
}

// stream serves a logs, attach or quit request, whose connection goes on
// after the response line. It reports whether the connection is to be kept
// open (a quit's, which Close closes).
func (s *Server) stream(ctx context.Context, c *net.UnixConn, rest *bufio.Reader, h Handler, req request, resp response) (keep bool) {
	if req.Op == opQuit {
		// Not under the cut below: the end of ctx (and Close) is what quit
		// asks for, and may come before the answer is written; the answer
		// must reach the client all the same.
		if err := h.Quit(ctx); err != nil {
			s.answer(ctx, c, resp, err)
			return false
		}
		if s.answer(ctx, c, resp, nil) != nil {
			return false
		}
		return s.park(c)
	}
	// sctx ends with the server (ctx, or Close) or when the client hangs
	// up; its end cuts the connection's reads and writes.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-sctx.Done():
		}
	}()
	cut := context.AfterFunc(sctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer cut()
	switch req.Op {
	case opLogs:
		s.streamLogs(sctx, cancel, c, rest, h, req, resp)
	case opAttach:
		s.streamAttach(sctx, ctx, cancel, c, rest, h, req, resp)
	}
	return false
}

// watchHangUp cancels when the client closes its end (or sends anything,
// which a logs client does not).
func watchHangUp(r io.Reader, cancel context.CancelFunc) {
	go func() {
		io.Copy(io.Discard, r)
		cancel()
	}()
}

// streamLogs sends the handler's records, one JSON line each, after the
// response line, which it writes at the first record or at the end (with
// the error, if the handler failed before sending anything).
func (s *Server) streamLogs(ctx context.Context, cancel context.CancelFunc, c *net.UnixConn, rest io.Reader, h Handler, req request, resp response) {
	watchHangUp(rest, cancel)
	w := bufio.NewWriter(c)
	started := false
	begin := func() error {
		if started {
			return nil
		}
		started = true
		return writeJSON(w, resp)
	}
	send := func(rec Record) error {
		if err := begin(); err != nil {
			return err
		}
		if err := writeJSON(w, streamLine{Record: rec}); err != nil {
			return err
		}
		// With follow, a record must not wait for the next one; without,
		// the records go out in large writes.
		if !req.Follow {
			return nil
		}
		return w.Flush()
	}
	err := h.Logs(ctx, LogsRequest{Names: req.Names, Lines: req.Lines, Follow: req.Follow}, send)
	if !started {
		s.answer(ctx, c, resp, err)
		return
	}
	if err != nil && ctx.Err() == nil {
		writeJSON(w, streamLine{Error: err.Error()})
	}
	w.Flush()
}

// streamAttach connects the client to a terminal: its output goes to the
// client as raw bytes; the client's frames are input and resizes. Either
// side's end ends it.
func (s *Server) streamAttach(sctx, ctx context.Context, cancel context.CancelFunc, c *net.UnixConn, rest *bufio.Reader, h Handler, req request, resp response) {
	var size Size
	if req.Size != nil {
		size = *req.Size
	}
	att, err := h.Attach(ctx, req.Name, size)
	if err != nil {
		s.answer(ctx, c, resp, err)
		return
	}
	defer att.Close()
	if s.answer(ctx, c, resp, nil) != nil {
		return
	}
	// Closing the attachment ends its Read; cancelling cuts the conn.
	end := sync.OnceFunc(func() {
		att.Close()
		cancel()
	})
	stopEnd := context.AfterFunc(sctx, end)
	defer stopEnd()
	out := make(chan struct{})
	go func() {
		defer close(out)
		io.Copy(c, att)
		end()
	}()
	readInput(rest, att)
	// The client is gone or sent garbage; or the output ended and the
	// connection was cut. The output copy has everything written before
	// it ends.
	att.Close()
	<-out
}

// readInput passes the client's frames to att until EOF or an error.
// A resize that fails is ignored: the session goes on at the old size.
func readInput(r *bufio.Reader, att Attached) {
	if skipNewline(r) != nil {
		return
	}
	var buf []byte
	for {
		typ, payload, err := readFrame(r, buf)
		if err != nil {
			return
		}
		buf = payload[:0]
		switch typ {
		case frameData:
			if _, err := att.Write(payload); err != nil {
				return
			}
		case frameResize:
			if len(payload) == 4 {
				att.Resize(Size{Cols: int(binary.BigEndian.Uint16(payload)), Rows: int(binary.BigEndian.Uint16(payload[2:]))})
			}
		default:
			return
		}
	}
}

// park holds a quit connection open until Close, so that its client learns
// when the server has gone (socket removed, lock released). It reports
// false when Close has already run and the connection is to be closed now.
func (s *Server) park(c *net.UnixConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.parked = append(s.parked, c)
	return true
}

// authorize refuses a peer of another uid.
func (s *Server) authorize(c *net.UnixConn) error {
	uid, err := peerUID(c)
	if err != nil {
		return fmt.Errorf("control connection refused: %w", err)
	}
	return checkPeer(uid, s.uid)
}

func dispatch(ctx context.Context, h Handler, req request) ([]Process, error) {
	switch req.Op {
	case opStatus:
		procs, err := h.Status(ctx)
		if err == nil && procs == nil {
			procs = []Process{}
		}
		return procs, err
	case opRestart:
		return nil, h.Restart(ctx, req.Names)
	case opStop:
		return nil, h.Stop(ctx, req.Names)
	}
	return nil, nil // hello
}

// Close stops listening, removes the socket if it is still the one Listen
// created, and releases the lock. It is safe to call more than once and
// while Serve runs (Serve then returns).
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ln.Close()
		var errs []error
		if fi, err := os.Lstat(s.loc.socket); err == nil && os.SameFile(fi, s.sockInfo) {
			if err := os.Remove(s.loc.socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("cannot remove control socket: %w", err))
			}
		}
		if err := s.releaseLock(); err != nil {
			errs = append(errs, err)
		}
		s.closeErr = errors.Join(errs...)
		// Quit's clients wait for this: the server has gone.
		s.mu.Lock()
		s.closed = true
		parked := s.parked
		s.parked = nil
		s.mu.Unlock()
		for _, c := range parked {
			c.Close()
		}
	})
	return s.closeErr
}

// releaseLock removes the lock file, if the path still names ours, while
// still holding the lock, then closes (unlocks) it.
func (s *Server) releaseLock() error {
	var err error
	if ours, serr := s.lock.Stat(); serr == nil {
		if fi, lerr := os.Lstat(s.loc.lock); lerr == nil && os.SameFile(fi, ours) {
			if rerr := os.Remove(s.loc.lock); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = fmt.Errorf("cannot remove lock file: %w", rerr)
			}
		}
	}
	return errors.Join(err, s.lock.Close())
}
