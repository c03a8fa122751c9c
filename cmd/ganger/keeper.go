package main

import (
	"os"
	"strings"
	"sync"
)

// keeperEnv carries the keeper's pid to the ganger it starts (see
// keeper_linux.go). That ganger takes it out of its environment before
// anything reads the environment, so nothing it starts sees it; it is not a
// GANGER_ variable, which would be read as a flag.
const keeperEnv = "_GANGER_KEEPER"

// needsKeeper reports whether args (os.Args) name a command that starts
// processes: start, run, build, test, and check with --boot. It looks at
// nothing but the command line's words, and is wrong only in the cheap
// direction: "ganger start --help" gets a keeper it does not need.
func needsKeeper(args []string) bool {
	if len(args) < 2 {
		return false
	}
	switch args[1] {
	case "start":
		// A detached start leaves a ganger running past this one, which a
		// keeper would kill when this one ends: it starts without one, and
		// the detached ganger (daemonEnv set) gets its own.
		if _, ok := os.LookupEnv(daemonEnv); ok {
			return true
		}
		return !detaching(args[2:], os.Getenv("GANGER_DAEMON"))
	case "run", "build", "test":
		return true
	case "check":
		for _, a := range args[2:] {
			if a == "--" {
				break
			}
			if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && name == "boot" {
				return true
			}
		}
	}
	return false
}

// kept is what keep decided for main.
type kept struct {
	exit bool // exit with code at once: the keeper has run, or cannot
	code int
	// sweep, in the inner ganger, is held while it kills what is below it
	// once its keeper is gone; it then exits, never unlocking it.
	sweep *sync.Mutex
}

// finish returns once no sweep is under way, and keeps one from starting:
// main calls it right before it exits, so that the inner never exits half
// way through killing what is below it.
func (k kept) finish() {
	if k.sweep != nil {
		k.sweep.Lock()
	}
}

// detaching reports whether start's args (or GANGER_DAEMON) ask for -D.
func detaching(args []string, env string) bool {
	on := env != "" && env != "0" && env != "false" && env != "no" && env != "off"
	for _, a := range args {
		if a == "--" {
			break
		}
		name, v, hasV := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "D" && name != "daemon") {
			continue
		}
		on = !hasV || (v != "false" && v != "0")
	}
	return on
}
