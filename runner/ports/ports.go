// Package ports checks, before anything starts, that the ports ganger is
// about to hand out as PORT are free, and when one is not, says who holds it.
//
// A port counts as free when ganger can listen on it on both wildcard
// addresses an app is likely to bind, 0.0.0.0 (IPv4) and :: (IPv6, the
// latter skipped on a host without IPv6), with SO_REUSEADDR as Go and most
// servers set it (a port in TIME_WAIT is free). A holder of the loopback
// address alone (127.0.0.1:PORT) also makes it busy on Linux, since the
// wildcard bind then fails. The check binds a bare socket and closes it at
// once: bind(2) is where a listener already on the port, or a privileged
// port, is refused, and a bare socket costs a few system calls where
// net.Listen would add the poller and its buffers (fifty ports took 4 ms
// through net.Listen, 1.4 ms so). There is a short window before the app
// binds in which another program could take the port; the app's own error
// still says so then.
//
// Who holds a port is found on Linux by reading /proc/net/tcp{,6} for the
// listening socket and /proc/*/fd for the process that owns it. It is best
// effort: processes of other users cannot be looked into without privilege,
// and then only the socket's owner (its uid) is named.
package ports

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// Want is a port about to be handed out and what it is for.
type Want struct {
	Port int
	For  string // the process, "web.1"
}

// BusyError says that a port cannot be listened on.
type BusyError struct {
	Want
	Addr   string // the address that failed, "0.0.0.0:5000"
	Holder string // who holds it, "pid 42 (ruby)"; "" when unknown
	Err    error  // from listen: EADDRINUSE, EACCES, ...
}

func (e *BusyError) Error() string {
	what := "cannot be listened on"
	switch {
	case errors.Is(e.Err, syscall.EADDRINUSE):
		what = "is already in use"
	case errors.Is(e.Err, syscall.EACCES):
		what = "needs privileges to listen on"
	}
	s := fmt.Sprintf("port %d (PORT of %s) %s on %s", e.Port, e.For, what, e.Addr)
	if e.Holder != "" {
		s += ", held by " + e.Holder
	}
	if !errors.Is(e.Err, syscall.EADDRINUSE) {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *BusyError) Unwrap() error { return e.Err }

// Check tries every wanted port and returns nil when all are free, else one
// *BusyError per busy port, joined (errors.Join) in the order given.
func Check(wants []Want) error {
	var errs []error
	for _, w := range wants {
		if err := checkOne(w); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// addrs are the addresses tried. The IPv6 socket is IPV6_V6ONLY, as Go's
// "tcp6" listeners are, so :: does not also take the IPv4 port.
var addrs = [...]struct {
	family int
	host   string
}{
	{syscall.AF_INET, "0.0.0.0"},
	{syscall.AF_INET6, "::"},
}

func checkOne(w Want) error {
	for _, a := range addrs {
		err := tryBind(a.family, w.Port)
		if err == nil {
			continue
		}
		if a.family == syscall.AF_INET6 && noIPv6(err) {
			continue
		}
		be := &BusyError{Want: w, Addr: net.JoinHostPort(a.host, strconv.Itoa(w.Port)), Err: err}
		if errors.Is(err, syscall.EADDRINUSE) {
			be.Holder = Holder(w.Port)
		}
		return be
	}
	return nil
}

// tryBind binds a TCP socket of family to the wildcard address and port,
// with SO_REUSEADDR, and closes it. The error is the bare errno.
func tryBind(family, port int) error {
	fd, err := openSocket(family)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return err
	}
	var sa syscall.Sockaddr = &syscall.SockaddrInet4{Port: port}
	if family == syscall.AF_INET6 {
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1); err != nil {
			return err
		}
		sa = &syscall.SockaddrInet6{Port: port}
	}
	return syscall.Bind(fd, sa)
}

// noIPv6 reports whether err means the host has no IPv6 to listen on.
func noIPv6(err error) bool {
	return errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EPROTONOSUPPORT)
}
