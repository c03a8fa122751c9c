package runner

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
)

// Watchdog guards against the one death no code of ganger's can clean up
// after: SIGKILL. It is a separate small process (ganger re-executed, see
// WatchdogMain) in its own process group, reading a pipe on which ganger
// writes the process groups it owns. When the pipe closes with groups still
// listed, ganger died without stopping them: the watchdog kills them all.
// On a clean exit ganger has removed every group before closing the pipe.
type Watchdog struct {
	mu  sync.Mutex
	w   *os.File
	cmd *exec.Cmd
}

// StartWatchdog starts the program at path with argv (argv[0] is the name
// it sees: ganger's own executable with the hidden watchdog command) and a
// pipe on its standard input.
func StartWatchdog(path string, argv []string) (*Watchdog, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Stdin: pr}
	// Its own group, so the terminal's Ctrl-C does not reach it; no
	// parent-death signal, so it outlives a killed ganger.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	pr.Close()
	return &Watchdog{w: pw, cmd: cmd}, nil
}

// Pid is the watchdog's process id.
func (wd *Watchdog) Pid() int { return wd.cmd.Process.Pid }

// Add records process group pgid.
func (wd *Watchdog) Add(pgid int) { wd.send('+', pgid) }

// Remove forgets process group pgid (it is empty).
func (wd *Watchdog) Remove(pgid int) { wd.send('-', pgid) }

func (wd *Watchdog) send(op byte, pgid int) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.w == nil {
		return
	}
	// Nothing useful can be done if the watchdog is gone; ganger still
	// cleans up itself.
	wd.w.Write([]byte(string(op) + strconv.Itoa(pgid) + "\n"))
}

// Close closes the pipe and waits for the watchdog to exit. Any group still
// recorded is killed by it.
func (wd *Watchdog) Close() error {
	wd.mu.Lock()
	w := wd.w
	wd.w = nil
	wd.mu.Unlock()
	if w == nil {
		return nil
	}
	w.Close()
	return wd.cmd.Wait()
}

// WatchdogMain is the watchdog process's body: it reads "+PGID" and "-PGID"
// lines from r until EOF, then sends SIGKILL to every group still recorded.
// The caller ignores SIGINT, SIGTERM and SIGHUP first.
func WatchdogMain(r io.Reader) {
	groups := map[int]bool{}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 2 && line[len(line)-1] == '\n' {
			if pgid, perr := strconv.Atoi(line[1 : len(line)-1]); perr == nil && pgid > 1 {
				switch line[0] {
				case '+':
					groups[pgid] = true
				case '-':
					delete(groups, pgid)
				}
			}
		}
		if err != nil {
			break
		}
	}
	for pgid := range groups {
		signalGroup(pgid, syscall.SIGKILL)
	}
}
