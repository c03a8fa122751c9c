package runner

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
)

// Watchdog guards against the one death no code of ganger's can clean up
// after: SIGKILL. It is a separate small process, /bin/sh running
// watchdogScript in its own process group, reading a pipe on which ganger
// writes the process groups it owns. When the pipe closes with groups still
// listed, ganger died without stopping them: the watchdog kills them all.
// On a clean exit ganger has removed every group, or cleared the list at
// once, before closing the pipe.
//
// On Linux the ganger binary runs start under a keeper (see cmd/ganger),
// which after a kill -9 of either ganger process finds and kills every
// descendant, escapees from their group included. The watchdog remains for
// what the keeper cannot see: both killed at once (a SIGKILL to their
// process group; the watchdog has its own), and systems without a keeper.
//
// It is a shell, not a re-exec of ganger, because it starts while the
// formation starts: a shell is up in about a millisecond, where a second Go
// runtime of ganger's size would take a core away from the children for
// longer than that, on every start.
type Watchdog struct {
	mu    sync.Mutex // guards w and ready
	w     *os.File   // the pipe it reads; nil once closed
	ready *os.File   // where it says "ready"; nil once heard (or closed)
	cmd   *exec.Cmd
}

// watchdogScript reads "+PGID" and "-PGID" lines, and "=" to forget every
// group, until EOF, then sends SIGKILL to every group still recorded. It ignores the signals a terminal
// or a signal to ganger's group would send (it must see ganger's end to act
// on it), and says "ready" on its stdout once it does. Lines that are not a
// sign and a pgid > 1 are ignored, and so is a last line without a newline
// (read fails on it). The set is a space-separated list with a space at
// each end, so " PGID " finds one whole entry.
const watchdogScript = `trap '' INT TERM HUP QUIT
echo ready
exec >/dev/null
g=' '
while IFS= read -r l; do
	case $l in =) g=' '; continue ;; esac
	p=${l#?}
	case $p in '' | *[!0-9]* | 0* | 1) continue ;; esac
	case $l in
	+*) case $g in *" $p "*) ;; *) g="$g$p " ;; esac ;;
	-*) case $g in *" $p "*) g="${g%% $p *} ${g#* $p }" ;; esac ;;
	esac
done
for p in $g; do kill -s KILL -- "-$p" 2>/dev/null; done
`

// StartWatchdog starts the watchdog with a pipe on its standard input. It
// does not wait for the shell to be set up: that overlaps with starting the
// formation, and the first Add waits for it.
func StartWatchdog() (*Watchdog, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", watchdogScript)
	cmd.Stdin = pr
	cmd.Stdout = rw
	cmd.Env = []string{} // nothing for the shell to read at start
	// Its own group, so the terminal's Ctrl-C does not reach it; no
	// parent-death signal, so it outlives a killed ganger.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	pr.Close()
	rw.Close()
	if err != nil {
		pw.Close()
		rr.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	return &Watchdog{w: pw, ready: rr, cmd: cmd}, nil
}

// Pid is the watchdog's process id.
func (wd *Watchdog) Pid() int { return wd.cmd.Process.Pid }

// Add records process group pgid. Once it has returned, the watchdog guards
// the group and ignores the signals it must outlive.
func (wd *Watchdog) Add(pgid int) { wd.send("+" + strconv.Itoa(pgid) + "\n") }

// Remove forgets process group pgid (it is empty).
func (wd *Watchdog) Remove(pgid int) { wd.send("-" + strconv.Itoa(pgid) + "\n") }

// Clear forgets every group: call it only when all of them are empty. One
// line instead of one per group keeps the end of a shutdown short: the shell
// reads its input a byte at a time.
func (wd *Watchdog) Clear() { wd.send("=\n") }

func (wd *Watchdog) send(line string) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.w == nil {
		return
	}
	if wd.ready != nil {
		// Its first word; an error means it died, and then, as for a
		// failed write, nothing useful can be done: ganger still cleans up
		// itself.
		wd.ready.Read(make([]byte, 1))
		wd.ready.Close()
		wd.ready = nil
	}
	wd.w.WriteString(line)
}

// Close closes the pipe and waits for the watchdog to exit. Any group still
// recorded is killed by it.
func (wd *Watchdog) Close() error {
	wd.mu.Lock()
	w := wd.w
	wd.w = nil
	if wd.ready != nil {
		wd.ready.Close()
		wd.ready = nil
	}
	wd.mu.Unlock()
	if w == nil {
		return nil
	}
	w.Close()
	return wd.cmd.Wait()
}
