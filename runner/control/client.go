package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Status asks the ganger serving root for every process and its state.
// When none serves it the error matches ErrNotRunning.
func Status(ctx context.Context, root string, opt Options) ([]Process, error) {
	resp, err := call(ctx, root, opt, request{Op: opStatus})
	if err != nil {
		return nil, err
	}
	if resp.Procs == nil {
		resp.Procs = []Process{}
	}
	return resp.Procs, nil
}

// Restart asks the ganger serving root to restart the named processes
// (instance names such as "web.1" or types such as "web"), starting stopped
// ones; no names means all. It returns when the server has acted.
func Restart(ctx context.Context, root string, names []string, opt Options) error {
	_, err := call(ctx, root, opt, request{Op: opRestart, Names: names})
	return err
}

// Stop asks the ganger serving root to stop the named processes (names or
// types); no names means all. It returns when the server has acted.
func Stop(ctx context.Context, root string, names []string, opt Options) error {
	_, err := call(ctx, root, opt, request{Op: opStop, Names: names})
	return err
}

// Info asks the ganger serving root who it is.
func Info(ctx context.Context, root string, opt Options) (ServerInfo, error) {
	resp, err := call(ctx, root, opt, request{Op: opHello})
	if err != nil {
		return ServerInfo{}, err
	}
	return ServerInfo{PID: resp.PID, Root: resp.Root, Version: resp.V, Log: resp.Log}, nil
}

// call locates root's socket, checks its directory without creating it,
// and makes one request.
func call(ctx context.Context, root string, opt Options, req request) (response, error) {
	resp, _, err := open(ctx, root, opt, req, false)
	return resp, err
}

// session is a connection that goes on after its response line.
type session struct {
	c    *net.UnixConn
	r    *bufio.Reader // what follows the response line
	stop func() bool   // stops the request ctx's watch on c
}

// open is call, which with stream keeps the connection for what follows
// the response (the caller closes it; the request ctx still cuts it until
// stop). When no server answers in the usual directory, a socket in the
// fallback one is tried too: the other user whose directory sent the server
// there may have removed it since.
func open(ctx context.Context, root string, opt Options, req request, stream bool) (response, *session, error) {
	uid := os.Getuid()
	loc, err := locate(root, opt, uid)
	if err != nil {
		return response{}, nil, err
	}
	resp, ss, err := callAt(ctx, loc, uid, req, stream)
	if fb := fallbackDir(opt); errors.Is(err, ErrNotRunning) && loc.displaced == "" && fb != "" {
		if floc := loc.in(fb); exists(floc.socket) {
			return callAt(ctx, floc, uid, req, stream)
		}
	}
	return resp, ss, err
}

// exists reports whether something stands at path.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// callAt makes one request to the server at loc.
func callAt(ctx context.Context, loc location, uid int, req request, stream bool) (response, *session, error) {
	fi, err := os.Lstat(loc.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return response{}, nil, &NotRunningError{Root: loc.root, Socket: loc.socket, Err: err}
	}
	if err != nil {
		return response{}, nil, fmt.Errorf("cannot check control socket dir: %w", err)
	}
	if err := checkDir(loc.dir, fi.Mode(), ownerOf(fi), uid); err != nil {
		return response{}, nil, err
	}
	return exchange(ctx, loc, uid, req, stream)
}

// roundTrip sends req on a new connection to loc's socket and reads the
// answer. The connection's deadline follows ctx.
func roundTrip(ctx context.Context, loc location, uid int, req request) (response, error) {
	resp, _, err := exchange(ctx, loc, uid, req, false)
	return resp, err
}

// exchange is roundTrip, which with stream keeps the connection open after
// a successful answer and returns it.
func exchange(ctx context.Context, loc location, uid int, req request, stream bool) (resp response, ss *session, err error) {
	fi, err := os.Lstat(loc.socket)
	if errors.Is(err, fs.ErrNotExist) {
		return resp, nil, &NotRunningError{Root: loc.root, Socket: loc.socket, Err: err}
	}
	if err != nil {
		return resp, nil, fmt.Errorf("cannot check control socket: %w", err)
	}
	if err := checkSocket(loc.socket, fi.Mode(), ownerOf(fi), uid); err != nil {
		return resp, nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", loc.socket)
	if err != nil {
		if isRefused(err) || errors.Is(err, fs.ErrNotExist) {
			return resp, nil, &NotRunningError{Root: loc.root, Socket: loc.socket, Err: err}
		}
		if ctx.Err() != nil {
			return resp, nil, fmt.Errorf("ganger %s for %s: %w", req.Op, loc.root, ctx.Err())
		}
		return resp, nil, fmt.Errorf("cannot connect to ganger for %s: %w", loc.root, err)
	}
	c := nc.(*net.UnixConn)
	keep := false
	defer func() {
		if !keep {
			c.Close()
		}
	}()
	peer, err := peerUID(c)
	if err == nil {
		err = checkPeer(peer, uid)
	}
	if err != nil {
		return resp, nil, fmt.Errorf("refusing control socket %s: %w", loc.socket, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !keep {
			stop()
		}
	}()

	fail := func(err error) (response, *session, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return response{}, nil, fmt.Errorf("ganger %s for %s: %w", req.Op, loc.root, err)
	}
	req.V = Version
	if err := writeJSON(c, req); err != nil {
		return fail(err)
	}
	dec := json.NewDecoder(io.LimitReader(c, maxResponseBytes))
	if err := dec.Decode(&resp); err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("the server closed the connection without answering: %w", err)
		}
		return fail(err)
	}
	if resp.Error != "" {
		return resp, nil, &RemoteError{Op: req.Op, Msg: resp.Error}
	}
	if resp.V != Version {
		return resp, nil, fmt.Errorf("ganger for %s (pid %d) speaks control protocol %d, this one %d; use the same ganger binary for start and ps/restart/stop",
			loc.root, resp.PID, resp.V, Version)
	}
	if stream {
		keep = true
		ss = &session{c: c, r: bufio.NewReader(io.MultiReader(dec.Buffered(), c)), stop: stop}
	}
	return resp, ss, nil
}

// Logs asks the ganger serving root for output records (see
// Handler.Logs) and calls f with each, in order. It returns when the
// server has sent them all (with req.Follow: when ctx ends, which is then
// not an error, or the server goes), or with f's first error.
func Logs(ctx context.Context, root string, opt Options, req LogsRequest, f func(Record) error) error {
	_, ss, err := open(ctx, root, opt, request{Op: opLogs, Names: req.Names, Lines: req.Lines, Follow: req.Follow}, true)
	if err != nil {
		return err
	}
	defer ss.c.Close()
	defer ss.stop()
	dec := json.NewDecoder(ss.r)
	for {
		var line streamLine
		if err := dec.Decode(&line); err != nil {
			switch {
			case errors.Is(err, io.EOF):
				return nil
			case req.Follow && ctx.Err() != nil:
				return nil
			case ctx.Err() != nil:
				return fmt.Errorf("ganger logs: %w", ctx.Err())
			}
			return fmt.Errorf("ganger logs: reading records: %w", err)
		}
		if line.Error != "" {
			return &RemoteError{Op: opLogs, Msg: line.Error}
		}
		if err := f(line.Record); err != nil {
			return err
		}
	}
}

// AttachConn is a connection to a process's terminal (see Attach).
type AttachConn struct {
	ss  *session
	wmu sync.Mutex // one frame at a time
	buf []byte
}

// Attach connects to the terminal of the process name (an instance name
// such as "web.1") of the ganger serving root, giving it size when that is
// not zero. ctx bounds the connecting only; Close ends the connection.
func Attach(ctx context.Context, root string, opt Options, name string, size Size) (*AttachConn, error) {
	req := request{Op: opAttach, Name: name}
	if size.Cols > 0 && size.Rows > 0 {
		req.Size = &size
	}
	_, ss, err := open(ctx, root, opt, req, true)
	if err != nil {
		return nil, err
	}
	if !ss.stop() {
		ss.c.Close()
		return nil, fmt.Errorf("ganger attach %s: %w", name, ctx.Err())
	}
	ss.c.SetDeadline(time.Time{})
	if err := skipNewline(ss.r); err != nil && !errors.Is(err, io.EOF) {
		ss.c.Close()
		return nil, fmt.Errorf("ganger attach %s: %w", name, err)
	}
	return &AttachConn{ss: ss}, nil
}

// Read reads the process's raw terminal output. It returns io.EOF when the
// process has exited (or the server has gone).
func (a *AttachConn) Read(p []byte) (int, error) { return a.ss.r.Read(p) }

// Write sends p to the process's terminal as input.
func (a *AttachConn) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxFrame)]
		if err := a.send(frameData, chunk); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// Resize sets the size of the process's terminal.
func (a *AttachConn) Resize(sz Size) error { return a.send(frameResize, resizePayload(sz)) }

func (a *AttachConn) send(typ byte, payload []byte) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	a.buf = appendFrame(a.buf[:0], typ, payload)
	_, err := a.ss.c.Write(a.buf)
	return err
}

// CloseWrite tells the server that no more input comes, which detaches;
// Read still returns what is on its way.
func (a *AttachConn) CloseWrite() error { return a.ss.c.CloseWrite() }

// Close detaches; the process keeps running.
func (a *AttachConn) Close() error { return a.ss.c.Close() }

// Quit asks the ganger serving root to stop the whole start, as Ctrl-C
// does, and returns once it has ended (its control socket closed), or when
// ctx ends. When none serves root the error matches ErrNotRunning.
func Quit(ctx context.Context, root string, opt Options) error {
	_, ss, err := open(ctx, root, opt, request{Op: opQuit}, true)
	if err != nil {
		return err
	}
	defer ss.c.Close()
	defer ss.stop()
	// The server sends nothing more: the read ends when it closes.
	_, err = io.Copy(io.Discard, ss.r)
	if ctx.Err() != nil {
		return fmt.Errorf("ganger quit: the start has not ended yet: %w", ctx.Err())
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("ganger quit: %w", err)
	}
	return nil
}
