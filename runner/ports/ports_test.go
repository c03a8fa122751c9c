package ports

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// hold listens on addr and returns the port; the listener closes with the test.
func hold(t *testing.T, network, addr string) int {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s %s here: %v", network, addr, err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// freePort returns a port nothing listened on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestFree(t *testing.T) {
	if err := Check([]Want{{Port: freePort(t), For: "web.1"}}); err != nil {
		t.Fatalf("Check of a free port: %v", err)
	}
}

func TestBusy(t *testing.T) {
	for _, tc := range []struct {
		network, addr, failsOn string
	}{
		{"tcp4", "0.0.0.0:0", "0.0.0.0"},
		{"tcp4", "127.0.0.1:0", "0.0.0.0"}, // loopback only still blocks the wildcard (Linux)
		{"tcp6", "[::]:0", "::"},
	} {
		t.Run(tc.network+" "+tc.addr, func(t *testing.T) {
			if tc.addr == "127.0.0.1:0" && runtime.GOOS != "linux" {
				t.Skip("BSD sockets let a wildcard bind beside a specific one")
			}
			port := hold(t, tc.network, tc.addr)
			err := Check([]Want{{Port: port, For: "web.1"}})
			var be *BusyError
			if !errors.As(err, &be) {
				t.Fatalf("Check = %v, want a *BusyError", err)
			}
			if !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("error %v is not EADDRINUSE", err)
			}
			msg := err.Error()
			for _, want := range []string{
				fmt.Sprintf("port %d (PORT of web.1) is already in use on %s", port, net.JoinHostPort(tc.failsOn, fmt.Sprint(port))),
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if runtime.GOOS == "linux" {
				if want := fmt.Sprintf("held by pid %d (", os.Getpid()); !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
		})
	}
}

func TestSeveral(t *testing.T) {
	a := hold(t, "tcp4", "0.0.0.0:0")
	b := hold(t, "tcp4", "0.0.0.0:0")
	err := Check([]Want{{Port: a, For: "web.1"}, {Port: freePort(t), For: "web.2"}, {Port: b, For: "worker.1"}})
	if err == nil {
		t.Fatal("Check of two busy ports = nil")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "(PORT of web.1)") || !strings.Contains(lines[1], "(PORT of worker.1)") {
		t.Errorf("Check = %q, want web.1's port then worker.1's", err)
	}
}

func TestPrivileged(t *testing.T) {
	if os.Geteuid() == 0 || runtime.GOOS != "linux" {
		t.Skip("needs an unprivileged user on Linux")
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err == nil && strings.TrimSpace(string(b)) == "0" {
		t.Skip("every port is unprivileged here")
	}
	err = Check([]Want{{Port: 1, For: "web.1"}})
	if !errors.Is(err, syscall.EACCES) || !strings.Contains(err.Error(), "needs privileges") {
		t.Errorf("Check of port 1 = %v, want permission denied", err)
	}
}
