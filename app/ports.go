package app

import (
	"errors"
	"fmt"

	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/ports"
)

// airPlayPorts are held by the macOS AirPlay Receiver (Monterey and later).
var airPlayPorts = map[int]bool{5000: true, 7000: true}

// checkPorts fails, before anything starts, when a PORT about to be handed
// out cannot be listened on; see package ports.
// With the router, its own port is checked too.
func checkPorts(specs []runner.Spec, withRouter bool, routerPort int) error {
	wants := make([]ports.Want, 0, len(specs)+1)
	if withRouter {
		wants = append(wants, ports.Want{Port: routerPort, For: RouterName})
	}
	for _, s := range specs {
		if s.Port > 0 {
			wants = append(wants, ports.Want{Port: s.Port, For: s.Name})
		}
	}
	err := ports.Check(wants)
	if err == nil {
		return nil
	}
	hint := "use -p to choose another base port, or --no-port-check if the process never listens on its PORT"
	if busyAirPlay(err) {
		hint += "; on macOS the AirPlay Receiver holds 5000 and 7000 (System Settings > General > AirDrop & Handoff)"
	}
	return fmt.Errorf("%w\n%s", err, hint)
}

// busyAirPlay reports whether a port AirPlay is known to hold is among the
// busy ones in err (one *ports.BusyError, or several joined).
func busyAirPlay(err error) bool {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var be *ports.BusyError
		if errors.As(e, &be) && airPlayPorts[be.Port] {
			return true
		}
	}
	return false
}
