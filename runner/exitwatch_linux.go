package runner

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// exitWatch waits for the exits of many children with one goroutine: each
// child's pidfd is in one epoll set, and the epoll descriptor waits in Go's
// poller. A goroutine per child cost its stack, its pidfd file and its
// registration in the poller: about 300 KiB of ganger's memory for fifty.
type exitWatch struct {
	ep *os.File
	rc syscall.RawConn

	mu      sync.Mutex
	waiting map[int32]func() // by pidfd: what to call once its process has exited
	done    chan struct{}    // closed when loop has returned
}

// newExitWatch returns a running watch, or nil when this kernel (before
// Linux 5.3) or the poller cannot have one (callers then wait for each
// child by itself).
func newExitWatch() *exitWatch {
	// Children are started with a pidfd only when the watch exists: a
	// kernel that opens one for this process makes them in clone too.
	self, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return nil
	}
	unix.Close(self)
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil
	}
	ep := os.NewFile(uintptr(epfd), "epoll")
	rc, err := ep.SyscallConn()
	if err != nil {
		ep.Close()
		return nil
	}
	w := &exitWatch{ep: ep, rc: rc, waiting: map[int32]func(){}, done: make(chan struct{})}
	go w.loop()
	return w
}

// add calls exited, on the watch's goroutine, once the process behind the
// pidfd fd has exited (it is not reaped: exited does that). exited may block
// only on the supervisor. add takes fd and closes it once the exit is seen;
// it reports false when the process cannot be watched, and then leaves fd to
// the caller and never calls exited.
func (w *exitWatch) add(fd int, exited func()) bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	w.waiting[int32(fd)] = exited
	w.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(fd)}
	var ctlErr error
	if err := w.rc.Control(func(epfd uintptr) { ctlErr = unix.EpollCtl(int(epfd), unix.EPOLL_CTL_ADD, fd, &ev) }); err != nil || ctlErr != nil {
		w.mu.Lock()
		delete(w.waiting, int32(fd))
		w.mu.Unlock()
		return false
	}
	return true
}

// loop hands each exit to its callback until close.
func (w *exitWatch) loop() {
	defer close(w.done)
	events := make([]unix.EpollEvent, 16)
	for {
		var ready []func()
		// Read calls the function before it waits, and again after each
		// wake-up, so that events beyond len(events) are taken on the next
		// turn and none is lost to the poller's edge triggering.
		err := w.rc.Read(func(epfd uintptr) bool {
			n, err := unix.EpollWait(int(epfd), events, 0)
			if err != nil || n <= 0 {
				return false
			}
			w.mu.Lock()
			for _, ev := range events[:n] {
				if f, ok := w.waiting[ev.Fd]; ok {
					delete(w.waiting, ev.Fd)
					ready = append(ready, f)
					unix.Close(int(ev.Fd)) // leaves the epoll set with it
				}
			}
			w.mu.Unlock()
			return true
		})
		for _, f := range ready {
			f()
		}
		if err != nil {
			return // closed
		}
	}
}

// close stops the watch; exits not seen by then are never reported.
func (w *exitWatch) close() {
	if w == nil {
		return
	}
	w.ep.Close()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for fd := range w.waiting {
		unix.Close(int(fd))
		delete(w.waiting, fd)
	}
}
