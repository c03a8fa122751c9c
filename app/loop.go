package app

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// A process that writes into the tree it is watched in restarts itself:
// each start writes a file, the write restarts it, and so on ("web: date >
// started.txt; exec server" restarted 26 times in 8 seconds). loopGuard
// notices: when changes to the same files arrive right after each of a
// type's last starts, loopRounds times in a row, those files stop
// restarting that type, and ganger says which files and how to leave them
// out of the watch.

// loopRounds is how many self-inflicted restarts in a row give a type up.
const loopRounds = 3

// loopGuard is owned by the watch goroutine.
type loopGuard struct {
	window time.Duration              // a change this soon after a start looks self-inflicted
	count  map[string]int             // type -> self-looking restarts in a row
	last   map[string][]string        // type -> the paths that restarted it last
	muted  map[string]map[string]bool // type -> paths that no longer restart it
}

func newLoopGuard(debounce time.Duration) *loopGuard {
	return &loopGuard{
		window: max(2*time.Second, 5*debounce),
		count:  map[string]int{},
		last:   map[string][]string{},
		muted:  map[string]map[string]bool{},
	}
}

// filter returns the paths that may restart typ: those not muted for it.
func (g *loopGuard) filter(typ string, paths []string) []string {
	m := g.muted[typ]
	if len(m) == 0 {
		return paths
	}
	return slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return m[p] })
}

// check records that paths would restart typ at now, whose instances
// started last at started (the latest of them). It returns false, and a
// message to show, when that would be the loopRounds-th self-inflicted
// restart in a row: the paths are then muted for typ.
func (g *loopGuard) check(typ string, paths []string, started, now time.Time) (ok bool, msg string) {
	last := g.last[typ]
	g.last[typ] = paths
	selfish := !started.IsZero() && now.Sub(started) < g.window &&
		slices.ContainsFunc(paths, func(p string) bool { return slices.Contains(last, p) })
	if !selfish {
		g.count[typ] = 0
		return true, ""
	}
	g.count[typ]++
	if g.count[typ] < loopRounds {
		return true, ""
	}
	g.count[typ] = 0
	if g.muted[typ] == nil {
		g.muted[typ] = map[string]bool{}
	}
	for _, p := range paths {
		g.muted[typ][p] = true
	}
	names := strings.Join(paths, ", ")
	ignore := make([]string, len(paths))
	for i, p := range paths {
		ignore[i] = "--watch-ignore /" + p
	}
	return false, fmt.Sprintf("%s restarts itself: %s changed right after each of its last %d starts, so changes to it no longer restart %s; hint: leave it out of the watch with %s, or in watch_ignore of ganger.yml",
		typ, names, loopRounds, typ, strings.Join(ignore, " "))
}
