package runner

import (
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
	start func() // forks and execs; runs on the spawner's thread
	reply chan struct{}
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread()
		// Never unlocked: when this goroutine returns the thread exits with
		// it, which is what we want once no child needs it.
		defer close(s.done)
		for r := range s.reqs {
			r.start()
			r.reply <- struct{}{}
		}
	}()
	return s
}

// do runs start, which starts a child (startChild, or exec.Cmd.Start for a
// one-off), on the spawner's thread and returns when it has.
func (s *spawner) do(start func()) {
	reply := make(chan struct{}, 1)
	s.reqs <- spawnReq{start: start, reply: reply}
	<-reply
}

// close retires the thread. Call it only when every child started by this
// spawner has exited: their parent-death signal fires with it.
func (s *spawner) close() {
	close(s.reqs)
	<-s.done
}
