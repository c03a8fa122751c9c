package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
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
	return ServerInfo{PID: resp.PID, Root: resp.Root, Version: resp.V}, nil
}

// call locates root's socket, checks its directory without creating it,
// and makes one request. When no server answers in the usual directory, a
// socket in the fallback one is tried too: the other user whose directory
// sent the server there may have removed it since.
func call(ctx context.Context, root string, opt Options, req request) (response, error) {
	uid := os.Getuid()
	loc, err := locate(root, opt, uid)
	if err != nil {
		return response{}, err
	}
	resp, err := callAt(ctx, loc, uid, req)
	if fb := fallbackDir(opt); errors.Is(err, ErrNotRunning) && loc.displaced == "" && fb != "" {
		if floc := loc.in(fb); exists(floc.socket) {
			return callAt(ctx, floc, uid, req)
		}
	}
	return resp, err
}

// exists reports whether something stands at path.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// callAt makes one request to the server at loc.
func callAt(ctx context.Context, loc location, uid int, req request) (response, error) {
	fi, err := os.Lstat(loc.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return response{}, &NotRunningError{Root: loc.root, Socket: loc.socket, Err: err}
	}
	if err != nil {
		return response{}, fmt.Errorf("cannot check control socket dir: %w", err)
	}
	if err := checkDir(loc.dir, fi.Mode(), ownerOf(fi), uid); err != nil {
		return response{}, err
	}
	return roundTrip(ctx, loc, uid, req)
}

// roundTrip sends req on a new connection to loc's socket and reads the
// answer. The connection's deadline follows ctx.
func roundTrip(ctx context.Context, loc location, uid int, req request) (response, error) {
	var resp response
	fi, err := os.Lstat(loc.socket)
	if errors.Is(err, fs.ErrNotExist) {
		return resp, &NotRunningError{Root: loc.root, Socket: loc.socket, Err: err}
	}
	if err != nil {
		return resp, fmt.Errorf("cannot check control socket: %w", err)
	}
	if err := checkSocket(loc.socket, fi.Mode(), ownerOf(fi), uid); err != nil {
		return resp, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", loc.socket)
	if err != nil {
		if isRefused(err) || errors.Is(err, fs.ErrNotExist) {
			return resp, &NotRunningError{Root: loc.root, Socket: loc.socket, Err: err}
		}
		if ctx.Err() != nil {
			return resp, fmt.Errorf("ganger %s for %s: %w", req.Op, loc.root, ctx.Err())
		}
		return resp, fmt.Errorf("cannot connect to ganger for %s: %w", loc.root, err)
	}
	c := nc.(*net.UnixConn)
	defer c.Close()
	peer, err := peerUID(c)
	if err == nil {
		err = checkPeer(peer, uid)
	}
	if err != nil {
		return resp, fmt.Errorf("refusing control socket %s: %w", loc.socket, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	fail := func(err error) (response, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return response{}, fmt.Errorf("ganger %s for %s: %w", req.Op, loc.root, err)
	}
	req.V = Version
	if err := writeJSON(c, req); err != nil {
		return fail(err)
	}
	if err := json.NewDecoder(io.LimitReader(c, maxResponseBytes)).Decode(&resp); err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("the server closed the connection without answering: %w", err)
		}
		return fail(err)
	}
	if resp.Error != "" {
		return resp, &RemoteError{Op: req.Op, Msg: resp.Error}
	}
	if resp.V != Version {
		return resp, fmt.Errorf("ganger for %s (pid %d) speaks control protocol %d, this one %d; use the same ganger binary for start and ps/restart/stop",
			loc.root, resp.PID, resp.V, Version)
	}
	return resp, nil
}
