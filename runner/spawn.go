package runner

import (
	"os/exec"
	"runtime"
)

// spawner starts processes from one goroutine locked to its OS thread. On
// Linux the parent-death signal fires when the thread that forked the child
// exits, not the process; Go may retire an unlocked thread at any time, which
// would kill healthy children. The locked thread lives until Close.
type spawner struct {
	reqs chan spawnReq
	done chan struct{}
}

type spawnReq struct {
	cmd   *exec.Cmd
	reply chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread()
		// Never unlocked: when this goroutine returns the thread exits with
		// it, which is what we want once no child needs it.
		defer close(s.done)
		for r := range s.reqs {
			r.reply <- r.cmd.Start()
		}
	}()
	return s
}

// start starts cmd on the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	reply := make(chan error, 1)
	s.reqs <- spawnReq{cmd: cmd, reply: reply}
	return <-reply
}

// close retires the thread. Call it only when every child started by this
// spawner has exited: their parent-death signal fires with it.
func (s *spawner) close() {
	close(s.reqs)
	<-s.done
}
