package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/config"
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
		return !detaching(args[2:], os.Getenv)
	case "run", "build", "test":
		return true
	case "check":
		_, boot := flagValue(args[2:], true, "boot") // --boot=false too: the cheap direction
		return boot
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

// detaching reports whether start's args ask for -D, the way start decides
// it: the flag, else GANGER_DAEMON, else the app's .foreman, else its
// ganger.yml (daemon: true). What cannot be read reads as false: start then
// has a keeper, and reports the problem itself.
func detaching(args []string, getenv func(string) string) bool {
	if v, ok := flagValue(args, true, "D", "daemon"); ok {
		b, err := strconv.ParseBool(v)
		return err == nil && b
	}
	if v := getenv("GANGER_DAEMON"); v != "" {
		b, err := strconv.ParseBool(v)
		return err == nil && b
	}
	root, _ := flagValue(args, false, "d", "root")
	if root == "" {
		root = getenv("GANGER_ROOT")
	}
	procfile, _ := flagValue(args, false, "f", "procfile")
	if procfile == "" {
		procfile = getenv("GANGER_PROCFILE")
	}
	wd, err := os.Getwd()
	if err != nil {
		return false
	}
	dir, err := app.Find(root, procfile, wd, app.NeedProcfile)
	if err != nil {
		return false
	}
	if v, ok := config.PeekForeman(dir, "daemon"); ok {
		b, err := strconv.ParseBool(v)
		return err == nil && b
	}
	cf, err := config.ReadFile(filepath.Join(dir, config.FileName))
	return err == nil && cf.Daemon
}

// flagValue finds the last of the flag names in args (before "--"): its
// value, "true" for a boolean given bare. A flag that takes a value takes
// the next word when it has no "=".
func flagValue(args []string, boolean bool, names ...string) (value string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, v, hasV := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !slices.Contains(names, name) {
			continue
		}
		switch {
		case hasV:
			value, ok = v, true
		case boolean:
			value, ok = "true", true
		case i+1 < len(args):
			i++
			value, ok = args[i], true
		}
	}
	return value, ok
}

// exitCodeOf is a process's exit code, 128+n if it died of signal n, 1 if
// it could not be waited for.
func exitCodeOf(ps *os.ProcessState) int {
	if ps == nil {
		return 1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
