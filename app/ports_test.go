package app

import (
	"errors"
	"syscall"
	"testing"

	"github.com/gangerdev/ganger/runner/ports"
)

func TestBusyAirPlay(t *testing.T) {
	busy := func(port int) error {
		return &ports.BusyError{Want: ports.Want{Port: port, For: "web.1"}, Addr: "0.0.0.0", Err: syscall.EADDRINUSE}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"5000 alone", busy(5000), true},
		{"7000 among others", errors.Join(busy(5100), busy(7000)), true},
		{"others", errors.Join(busy(5100), busy(5200)), false},
		{"not a busy error", errors.New("listen: something else"), false},
	} {
		if got := busyAirPlay(tc.err); got != tc.want {
			t.Errorf("%s: busyAirPlay = %v, want %v", tc.name, got, tc.want)
		}
	}
}
